using System.Globalization;
using Dendrite.Layers;

namespace Dendrite.Cli;

/// <summary>
/// Layer stacks for `dendrite train --arch NAME` and `--layers SPEC`. A spec lists hidden layers in order, separated
/// by spaces: `conv(32,3) maxpool(2) conv(64,3) maxpool(2) flatten dropout(0.5)`. Arguments are positional or
/// key=value, Keras's names: conv(filters, kernel, strides=1, padding=valid|same, activation=relu),
/// maxpool(pool=2, strides=pool, padding), avgpool(...), gap, batchnorm(momentum=0.99, epsilon=0.001),
/// dropout(rate), dense(units, activation=relu), flatten, reshape(d1, d2, ...), and the random augmentation layers
/// translate(height_factor, width_factor=height_factor), rotate(factor), zoom(height_factor, width_factor), each with
/// fill_mode=reflect|constant|nearest|wrap, interpolation=bilinear|nearest, fill_value=0 (a factor f means -f..f, lo:hi a
/// range). An activation or padding name may stand alone: conv(32, 3, tanh, same). The output layer (one unit per
/// class) is added after the stack.
/// </summary>
internal static class Architectures
{
    /// <summary>A named architecture: its hidden layers as a spec, and the training recipe it was published with.</summary>
    internal sealed record Recipe(string Name, string Layers, string Description, string Optimizer, float LearningRate, float Momentum, int Epochs, int BatchSize);

    public static readonly Recipe[] Named =
    [
        new("mlp", "", "784-1024-10 dense network of the Keras tutorial (hidden sizes from --hidden)", "sgd", 0.1f, 0f, 15, 128),
        new("convnet", "conv(32,3) maxpool(2) conv(64,3) maxpool(2) flatten dropout(0.5)",
            "Keras's mnist_convnet: 34,826 parameters, about 99.1% after 15 epochs of Adam", "adam", 0.001f, 0f, 15, 128),
        new("cnn", "conv(32,3) batchnorm conv(32,3) batchnorm maxpool(2) dropout(0.25) conv(64,3) batchnorm conv(64,3) batchnorm maxpool(2) dropout(0.25) flatten dense(256) batchnorm dropout(0.5)",
            "the best-accuracy CNN: four 3×3 convolutions with batch normalisation and dropout", "sgd", 0.01f, 0.9f, 15, 128),
    ];

    public static Recipe Get(string name) =>
        Named.FirstOrDefault(a => a.Name == name.ToLowerInvariant())
        ?? throw new ArgumentException($"Invalid value received for option --arch. Expected one of {string.Join(", ", Named.Select(a => a.Name))}. Received: {name}.");

    /// <summary>
    /// Layers for a spec, on items of <paramref name="itemShape"/>. A Reshape adding a channel axis goes before the
    /// first image layer when the items are 2-D, and a Flatten before the first Dense when the items are not vectors.
    /// </summary>
    /// <remarks>With <paramref name="checkOnly"/> the augmentation layers are named "check", so that checking an option leaves Keras's layer numbering (random_zoom, random_zoom_1, ...) untouched.</remarks>
    public static List<Layer> Parse(string spec, int[] itemShape, ActivationFunction defaultActivation, Initializer init, Func<Layer>? output = null, bool checkOnly = false)
    {
        string? named = checkOnly ? "check" : null;
        var layers = new List<Layer>();
        int rank = itemShape.Length;
        var tokens = Tokens(spec).ToList();
        if (output is not null) tokens.Add(("output", []));
        foreach (var (name, args) in tokens)
        {
            var a = new Args(name, args);
            Layer layer = name == "output" && output is not null ? output() : name switch
            {
                "conv" or "conv2d" => new Conv2D(a.Int(0, "filters"), a.Int(1, "kernel_size"), a.Int(-1, "strides", 1), a.Padding(), a.Activation(defaultActivation), kernelInitializer: init),
                "maxpool" or "maxpooling2d" => new MaxPooling2D(a.Int(0, "pool_size", 2), a.OptionalInt(1, "strides"), a.Padding()),
                "avgpool" or "averagepooling2d" => new AveragePooling2D(a.Int(0, "pool_size", 2), a.OptionalInt(1, "strides"), a.Padding()),
                "gap" or "globalaveragepooling2d" => new GlobalAveragePooling2D(),
                "batchnorm" or "bn" or "batchnormalization" => new BatchNormalization(a.Float(-1, "momentum", 0.99f), a.Float(-1, "epsilon", 1e-3f)),
                "dropout" => new Dropout(a.Float(0, "rate")),
                "dense" => new Dense(a.Int(0, "units"), a.Activation(defaultActivation), kernelInitializer: init),
                "flatten" => new Flatten(),
                "reshape" => new Reshape(a.Ints()),
                "translate" or "randomtranslation" => a.Range(0, "height_factor") is var th
                    ? new RandomTranslation(th, a.Range(1, "width_factor", th), a.Text("fill_mode", "reflect"), a.Text("interpolation", "bilinear"), fillValue: a.Float(-1, "fill_value", 0f), name: named) : null!,
                "rotate" or "randomrotation" => new RandomRotation(a.Range(0, "factor"), a.Text("fill_mode", "reflect"), a.Text("interpolation", "bilinear"), fillValue: a.Float(-1, "fill_value", 0f), name: named),
                "zoom" or "randomzoom" => new RandomZoom(a.Range(0, "height_factor"), a.Has(1, "width_factor") ? a.Range(1, "width_factor") : null,
                    a.Text("fill_mode", "reflect"), a.Text("interpolation", "bilinear"), fillValue: a.Float(-1, "fill_value", 0f), name: named),
                _ => throw new ArgumentException($"Unknown layer `{name}` in --layers. Known: conv, maxpool, avgpool, gap, batchnorm, dropout, dense, flatten, reshape, translate, rotate, zoom."),
            };
            a.CheckAllUsed();
            if (layer is Conv2D or Pooling2D or GlobalAveragePooling2D && rank == 2 && layers.Count(l => l is Conv2D or Pooling2D) == 0)
            {
                layers.Add(new Reshape([.. itemShape, 1]));
                rank = 3;
            }
            if (layer is Dense && rank > 1) { layers.Add(new Flatten()); rank = 1; }
            layers.Add(layer);
            rank = layer switch { Flatten or GlobalAveragePooling2D or Dense => 1, Reshape r => r.TargetShape.Length, _ => rank };
        }
        return layers;
    }

    /// <summary>
    /// The layers of `--augment`, as a --layers spec: "translate=0.1,rotate=0.05,zoom=0.1" gives
    /// "translate(0.1) rotate(0.05) zoom(0.1)"; fill=MODE and interpolation=NAME apply to each of them.
    /// </summary>
    public static string AugmentSpec(string text)
    {
        var layers = new List<string>();
        string extra = "";
        foreach (var part in text.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            string key = eq > 0 ? part[..eq].Trim().ToLowerInvariant() : part, value = eq > 0 ? part[(eq + 1)..].Trim() : "";
            if (value.Length == 0) throw new ArgumentException($"Invalid value received for option --augment: `{part}` is not NAME=VALUE. Expected e.g. \"translate=0.1,rotate=0.05,zoom=0.1\".");
            switch (key)
            {
                case "translate" or "rotate" or "zoom": layers.Add($"{key}({value}"); break;
                case "fill" or "fill_mode": extra += $" fill_mode={value}"; break;
                case "interpolation": extra += $" interpolation={value}"; break;
                case "fill_value": extra += $" fill_value={value}"; break;
                default: throw new ArgumentException($"Invalid value received for option --augment: unknown `{key}`. Expected translate, rotate, zoom, fill, interpolation or fill_value.");
            }
        }
        if (layers.Count == 0) throw new ArgumentException("Invalid value received for option --augment: it names no transform. Expected e.g. \"translate=0.1,rotate=0.05,zoom=0.1\".");
        return string.Join(" ", layers.Select(l => l + extra + ")"));
    }

    /// <summary>Splits "conv(32, 3) maxpool flatten" into (name, arguments) pairs; commas and spaces inside brackets separate arguments.</summary>
    internal static IEnumerable<(string Name, string[] Args)> Tokens(string spec)
    {
        int i = 0;
        while (true)
        {
            while (i < spec.Length && (char.IsWhiteSpace(spec[i]) || spec[i] is ',' or ';')) i++;
            if (i >= spec.Length) yield break;
            int start = i;
            while (i < spec.Length && (char.IsLetterOrDigit(spec[i]) || spec[i] == '_')) i++;
            if (i == start) throw new ArgumentException($"Invalid --layers: unexpected `{spec[i]}` at position {i + 1} of \"{spec}\".");
            string name = spec[start..i].ToLowerInvariant();
            while (i < spec.Length && spec[i] == ' ') i++;
            string[] args = [];
            if (i < spec.Length && spec[i] == '(')
            {
                int close = spec.IndexOf(')', i);
                if (close < 0) throw new ArgumentException($"Invalid --layers: `{name}(` has no closing bracket in \"{spec}\".");
                args = spec[(i + 1)..close].Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                i = close + 1;
            }
            yield return (name, args);
        }
    }

    /// <summary>A layer's arguments: positional values, key=value pairs, and bare activation or padding names.</summary>
    private sealed class Args
    {
        private readonly string _layer;
        private readonly List<string> _positional = [];
        private readonly Dictionary<string, string> _named = new(StringComparer.OrdinalIgnoreCase);
        private readonly HashSet<string> _used = new(StringComparer.OrdinalIgnoreCase);
        private string? _activation, _padding;
        private int _positionalUsed;

        public Args(string layer, string[] args)
        {
            _layer = layer;
            foreach (var a in args)
            {
                int eq = a.IndexOf('=');
                if (eq > 0) _named[a[..eq].Trim()] = a[(eq + 1)..].Trim();
                else if (a.ToLowerInvariant() is "same" or "valid") _padding = a.ToLowerInvariant();
                else if (a.Contains(':')) _positional.Add(a);        // a range, lo:hi
                else if (!double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) _activation = a;
                else _positional.Add(a);
            }
        }

        private string? Get(int position, string key)
        {
            if (_named.TryGetValue(key, out var v)) { _used.Add(key); return v; }
            if (position >= 0 && position < _positional.Count) { _positionalUsed = Math.Max(_positionalUsed, position + 1); return _positional[position]; }
            return null;
        }

        public int Int(int position, string key, int? fallback = null)
        {
            var v = Get(position, key);
            if (v is null) return fallback ?? throw new ArgumentException($"Layer `{_layer}` in --layers needs `{key}`.");
            return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n
                : throw new ArgumentException($"Layer `{_layer}` in --layers: `{key}` must be a positive integer; received {v}.");
        }

        public bool Has(int position, string key) => _named.ContainsKey(key) || (position >= 0 && position < _positional.Count);

        public string Text(string key, string fallback) => Get(-1, key) ?? fallback;

        /// <summary>A random factor: f for -f..f, or lo:hi.</summary>
        public FactorRange Range(int position, string key, FactorRange? fallback = null)
        {
            var v = Get(position, key);
            if (v is null) return fallback ?? throw new ArgumentException($"Layer `{_layer}` in --layers needs `{key}`.");
            var parts = v.Split(':');
            var f = new float[parts.Length];
            for (int i = 0; i < parts.Length; i++)
                if (parts.Length > 2 || !float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out f[i]) || !float.IsFinite(f[i]))
                    throw new ArgumentException($"Layer `{_layer}` in --layers: `{key}` must be a number f (for -f..f) or a range lo:hi; received {v}.");
            return parts.Length == 1 ? f[0] : (f[0], f[1]);
        }

        public int? OptionalInt(int position, string key) => Get(position, key) is null ? null : Int(position, key);

        public float Float(int position, string key, float? fallback = null)
        {
            var v = Get(position, key);
            if (v is null) return fallback ?? throw new ArgumentException($"Layer `{_layer}` in --layers needs `{key}`.");
            return float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) && float.IsFinite(f) ? f
                : throw new ArgumentException($"Layer `{_layer}` in --layers: `{key}` must be a number; received {v}.");
        }

        public int[] Ints()
        {
            _positionalUsed = _positional.Count;
            return _positional.Select(v => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n
                : throw new ArgumentException($"Layer `{_layer}` in --layers: expected integers; received {v}.")).ToArray();
        }

        public string Padding() => Get(-1, "padding") ?? _padding ?? "valid";

        public ActivationFunction Activation(ActivationFunction fallback)
        {
            string? name = Get(-1, "activation") ?? _activation;
            _activation = null;
            return name is null ? fallback : ActivationFunction.Get(name);
        }

        public void CheckAllUsed()
        {
            var unused = _named.Keys.Where(k => !_used.Contains(k)).ToList();
            if (unused.Count > 0) throw new ArgumentException($"Layer `{_layer}` in --layers does not take `{unused[0]}`.");
            if (_positionalUsed < _positional.Count) throw new ArgumentException($"Layer `{_layer}` in --layers takes fewer values than the {_positional.Count} given.");
            if (_activation is not null) throw new ArgumentException($"Layer `{_layer}` in --layers does not take `{_activation}`.");
            if (_padding is not null && _layer is not ("conv" or "conv2d" or "maxpool" or "maxpooling2d" or "avgpool" or "averagepooling2d"))
                throw new ArgumentException($"Layer `{_layer}` in --layers does not take a padding.");
        }
    }
}
