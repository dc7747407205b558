using System.Text.Json;
using System.Text.RegularExpressions;
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;

namespace Dendrite.Serialization.Import;

/// <summary>
/// Turns a Keras Sequential model (config and weights from a <see cref="KerasFile"/>) into a Dendrite
/// <see cref="Sequential"/>. Keras images are channels-last, as Dendrite's, so kernels and Flatten keep their order.
/// Config is read as Keras 2 and 3 write it: <c>batch_input_shape</c> or <c>batch_shape</c>, dtypes as strings or
/// DTypePolicy objects. A fixed batch size in the InputLayer does not bind predictions. Lambda and custom layers are
/// refused by name; no code from the file is ever run.
/// </summary>
internal sealed partial class KerasImport
{
    public static readonly string[] SupportedLayers =
    [
        "InputLayer", "Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten", "Dropout", "BatchNormalization",
        "Activation", "Rescaling", "Reshape", "GlobalAveragePooling2D", "ZeroPadding2D",
    ];

    private static readonly Dictionary<string, string> Aliases = new()
    {
        ["Convolution2D"] = "Conv2D", ["MaxPool2D"] = "MaxPooling2D", ["AvgPool2D"] = "AveragePooling2D", ["GlobalAvgPool2D"] = "GlobalAveragePooling2D",
    };

    private readonly KerasFile _file;
    private readonly string _what;
    private readonly Dictionary<string, int> _counters = [];
    private readonly List<Layer> _layers = [];
    private readonly List<(Layer Layer, Tensor[] Weights)> _weights = [];
    private int[]? _shape;   // the current shape, batch left out (Keras's, channels-last)

    private KerasImport(KerasFile file, string what) { _file = file; _what = what; }

    private InvalidDataFormatException Fail(string why) => new($"{_what}: {why}");

    public static Sequential Convert(KerasFile file, string what, Layer? front) => new KerasImport(file, what).Run(front);

    private Sequential Run(Layer? front)
    {
        var root = _file.Config;
        if (root.ValueKind != JsonValueKind.Object) throw Fail("the model config is not a JSON object.");
        string cls = Str(root, "class_name") ?? throw Fail("the model config has no class_name.");
        var config = root.TryGetProperty("config", out var c) ? c : throw Fail("the model config has no `config`.");
        List<JsonElement> layers;
        if (cls is "Functional" or "Model") layers = Chain(config, cls);
        else if (cls == "Sequential")
        {
            var list = config.ValueKind == JsonValueKind.Array ? config   // Keras 2.0–2.2 wrote the list of layers directly
                : config.TryGetProperty("layers", out var l) && l.ValueKind == JsonValueKind.Array ? l : throw Fail("the Sequential config has no list of layers.");
            layers = [.. list.EnumerateArray()];
        }
        else throw Fail($"the model is a Keras {cls}; Dendrite imports Sequential models and Functional models whose layers form a chain.");
        if (config.ValueKind == JsonValueKind.Object && config.TryGetProperty("build_input_shape", out var bis) && BatchShape(bis) is { } b) _shape = b;
        _channelsFirst = ChannelsFirst(layers);

        foreach (var layer in layers) Step(layer);
        if (_shape is null) throw Fail("the model does not say the shape of its input (no InputLayer, batch_input_shape or build_input_shape).");
        if (_layers.Count == 0 && front is null) throw Fail("the model has no layers.");
        if (_flattened is not null)
            throw Fail("the model ends in channels-first data flattened in Keras's (channels, height, width) order with no Dense layer after it; Dendrite cannot reorder its output.");

        var input = _inputShape!;
        var all = new List<Layer>();
        if (front is not null) all.Add(front);
        all.AddRange(_prefix);
        all.AddRange(_layers);
        var model = new Sequential(all.ToArray());
        try
        {
            model.Build(input);
            foreach (var (layer, weights) in _weights) layer.SetWeights(weights);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or OverflowException)
        {
            throw Fail($"the model cannot be built in Dendrite: {e.Message}");
        }
        return model;
    }

    private int[]? _inputShape;
    private readonly List<Layer> _prefix = [];

    /// <summary>
    /// The model's input. Images reach Dendrite channels-last whatever the model's data format: a channels-first
    /// model's (C, H, W) input becomes (H, W, C). A single-channel image is taken as (H, W) and given its channel by a Reshape.
    /// </summary>
    private void SetInput(int[] shape)
    {
        if (_inputShape is not null) return;
        if (shape.Length == 0 || shape.Any(d => d <= 0))
            throw Fail($"the input shape ({string.Join(", ", shape)}) must have fixed positive sizes after the batch axis.");
        if (shape.Length == 3 && _channelsFirst) { shape = [shape[1], shape[2], shape[0]]; _cf = true; }
        _shape = shape;
        if (shape.Length == 3 && shape[2] == 1) { _inputShape = [shape[0], shape[1]]; _prefix.Add(new Reshape(shape)); }
        else _inputShape = shape;
    }

    // Keras's channels_first layout. Dendrite's images are always (H, W, C); _shape is kept in that layout, and _cf says
    // that Keras sees the current tensor as (C, H, W). Kernels need no change (Keras keeps (kh, kw, in, out) in both
    // formats); a Flatten in Keras's (C, H, W) order leaves _flattened set until the Dense layer after it takes its rows
    // in Dendrite's order.
    private bool _channelsFirst, _cf;
    private int[]? _flattened;

    private static readonly string[] Spatial = ["Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "ZeroPadding2D"];

    /// <summary>Whether the model is channels-first: the data format of its first spatial layer (or else of its first Flatten).</summary>
    private static bool ChannelsFirst(List<JsonElement> layers)
    {
        string? Format(JsonElement l, bool flatten)
        {
            string? cls = Str(l, "class_name");
            if (cls is not null && Aliases.TryGetValue(cls, out var a)) cls = a;
            bool fits = flatten ? cls == "Flatten" : Spatial.Contains(cls);
            return fits && l.TryGetProperty("config", out var c) ? Str(c, "data_format") : null;
        }
        string? f = layers.Select(l => Format(l, false)).FirstOrDefault(x => x is not null) ?? layers.Select(l => Format(l, true)).FirstOrDefault(x => x is not null);
        return f == "channels_first";
    }

    /// <summary>
    /// The layers of a Functional model, in order, when they form a chain: one InputLayer, and every other layer called
    /// once, on the output of the layer listed before it, the last one being the model's output. Keras 2 writes inbound
    /// nodes as [[[name, node, tensor, kwargs]]], Keras 3 as [{"args": [{"keras_history": [name, node, tensor]}]}].
    /// </summary>
    private List<JsonElement> Chain(JsonElement config, string cls)
    {
        if (config.ValueKind != JsonValueKind.Object || !config.TryGetProperty("layers", out var list) || list.ValueKind != JsonValueKind.Array)
            throw Fail($"the {cls} config has no list of layers.");
        var layers = list.EnumerateArray().ToList();
        string NameOf(JsonElement l) => Str(l, "name") ?? (l.TryGetProperty("config", out var c) ? Str(c, "name") : null) ?? throw Fail("a layer of the Functional model has no name.");
        const string Why = "Dendrite imports Sequential models and Functional models whose layers form a chain (each layer taking the output of the one before).";
        string? previous = null;
        foreach (var l in layers)
        {
            string name = NameOf(l);
            var nodes = l.TryGetProperty("inbound_nodes", out var n) && n.ValueKind == JsonValueKind.Array ? n.EnumerateArray().ToList() : [];
            if (previous is null)
            {
                if (Str(l, "class_name") != "InputLayer" || nodes.Count != 0) throw Fail($"the Functional model's first layer `{name}` is not its input. {Why}");
            }
            else
            {
                if (nodes.Count != 1) throw Fail($"layer `{name}` of the Functional model is {(nodes.Count == 0 ? "a second input" : $"called {nodes.Count} times (a shared layer)")}. {Why}");
                var sources = new List<string>();
                History(nodes[0], sources);
                if (sources.Count != 1 || sources[0] != previous)
                    throw Fail($"layer `{name}` of the Functional model takes its input from {(sources.Count == 0 ? "nothing" : string.Join(", ", sources.Select(x => $"`{x}`")))}, not from `{previous}` alone. {Why}");
            }
            previous = name;
        }
        if (previous is null) throw Fail("the Functional model has no layers.");
        var outputs = new List<string>();
        if (config.TryGetProperty("output_layers", out var o)) Names(o, outputs);
        if (outputs.Count != 1 || outputs[0] != previous)
            throw Fail($"the Functional model's outputs are {string.Join(", ", outputs.Select(x => $"`{x}`"))}, not its last layer `{previous}` alone. {Why}");
        return layers;
    }

    /// <summary>The names of the layers a node takes tensors from (Keras 2's nested lists or Keras 3's keras_history).</summary>
    private static void History(JsonElement node, List<string> into)
    {
        if (node.ValueKind == JsonValueKind.Object)
        {
            if (node.TryGetProperty("keras_history", out var h) && h.ValueKind == JsonValueKind.Array && h.GetArrayLength() > 0 && h[0].ValueKind == JsonValueKind.String)
            { into.Add(h[0].GetString()!); return; }
            foreach (var p in node.EnumerateObject()) History(p.Value, into);
        }
        else if (node.ValueKind == JsonValueKind.Array)
        {
            // Keras 2: [name, node index, tensor index, kwargs]
            if (node.GetArrayLength() >= 3 && node[0].ValueKind == JsonValueKind.String && node[1].ValueKind == JsonValueKind.Number) { into.Add(node[0].GetString()!); return; }
            foreach (var e in node.EnumerateArray()) History(e, into);
        }
    }

    /// <summary>Layer names in output_layers: [["name", 0, 0]] (Keras 2) or ["name", 0, 0] (Keras 3, one output).</summary>
    private static void Names(JsonElement e, List<string> into)
    {
        if (e.ValueKind != JsonValueKind.Array) return;
        if (e.GetArrayLength() > 0 && e[0].ValueKind == JsonValueKind.String) { into.Add(e[0].GetString()!); return; }
        foreach (var x in e.EnumerateArray()) Names(x, into);
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>A batch shape ([null, 28, 28, 1]) without its batch axis; null when absent or not a list.</summary>
    private int[]? BatchShape(JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Array) return null;
        var items = v.EnumerateArray().Skip(1).ToArray();
        var shape = new int[items.Length];
        for (int i = 0; i < items.Length; i++)
            shape[i] = items[i].ValueKind == JsonValueKind.Number && items[i].TryGetInt32(out int d) && d > 0 ? d
                : throw Fail($"the input shape {v.GetRawText()} has a dimension that is not a fixed positive size.");
        return shape;
    }

    private void Step(JsonElement layer)
    {
        string cls = Str(layer, "class_name") ?? throw Fail("a layer in the config has no class_name.");
        var cfg = layer.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.Object ? c : throw Fail($"layer of class {cls} has no config.");
        string name = Str(cfg, "name") ?? cls;
        if (Aliases.TryGetValue(cls, out var alias)) cls = alias;
        string module = Str(layer, "module") ?? "keras.layers";
        if (cls is "Lambda" or "TFOpLambda" or "SlicingOpLambda")
            throw Fail($"layer `{name}` is a {cls} layer, which holds Python code; Dendrite never runs code from a file and cannot import it.");
        if (!SupportedLayers.Contains(cls) || !(module.StartsWith("keras", StringComparison.Ordinal) || module.StartsWith("tf_keras", StringComparison.Ordinal)))
            throw Fail($"layer `{name}` is of class {cls}{(Str(layer, "registered_name") is { } r && r != cls ? $" (registered as {r})" : "")}, which Dendrite does not import (custom layers are never run). Dendrite imports these Keras layers: {string.Join(", ", SupportedLayers)}.");

        CheckDtype(cfg, name);
        if (Spatial.Contains(cls) && _shape is { Length: 3 } && (Str(cfg, "data_format") is "channels_first") != _cf)
            throw Fail($"layer `{name}` is {Str(cfg, "data_format") ?? "channels_last"} but receives {(_cf ? "channels-first" : "channels-last")} data; Dendrite imports models that keep one data format throughout.");
        if (_flattened is not null && cls is not ("Dense" or "Dropout" or "Activation" or "BatchNormalization" or "Rescaling"))
            throw Fail($"layer `{name}` ({cls}) follows a Flatten of channels-first data in Keras's (channels, height, width) order; Dendrite can reorder it only into a Dense layer.");

        // The first layer may carry the input shape (Keras 2 without an InputLayer).
        foreach (var shapeKey in (string[])["batch_shape", "batch_input_shape"])
            if (cfg.TryGetProperty(shapeKey, out var bs) && BatchShape(bs) is { } shape) { SetInput(shape); break; }
        if (cls == "InputLayer")
        {
            if (_inputShape is null && cfg.TryGetProperty("input_shape", out var ins) && ins.ValueKind == JsonValueKind.Array)
                SetInput(BatchShape(JsonDocument.Parse("[null," + string.Join(",", ins.EnumerateArray().Select(x => x.GetRawText())) + "]").RootElement)!);
            return;
        }
        if (_inputShape is null && _shape is { } built) SetInput(built);
        if (_inputShape is null && layer.TryGetProperty("build_config", out var bc) && bc.ValueKind == JsonValueKind.Object
            && bc.TryGetProperty("input_shape", out var bcs) && BatchShape(bcs) is { } s2) SetInput(s2);
        if (_inputShape is null) throw Fail($"layer `{name}` comes first but the model does not say the shape of its input.");

        string key = Key(cls);
        switch (cls)
        {
            case "Dense":
                {
                    if (_shape!.Length != 1) throw Fail($"layer `{name}` (Dense) receives rank-{_shape.Length + 1} data; Dendrite applies Dense to (batch, features) only. Put a Flatten before it.");
                    int units = Int(cfg, name, "units");
                    bool bias = Bool(cfg, "use_bias", true);
                    var l = Add(new Dense(units, Act(cfg, name), useBias: bias, name: name));
                    Weights(l, name, key, bias ? [[_shape[0], units], [units]] : [[_shape[0], units]], permuteRows: [0]);
                    _shape = [units];
                    _flattened = null;
                    return;
                }
            case "Conv2D":
                {
                    var (h, w, ch) = Image(name);
                    int filters = Int(cfg, name, "filters");
                    var k = Pair(cfg, name, "kernel_size", null);
                    var s = Pair(cfg, name, "strides", 1);
                    if (Pair(cfg, name, "dilation_rate", 1) != (1, 1)) throw Fail($"layer `{name}`: dilated convolutions are not supported.");
                    if (cfg.TryGetProperty("groups", out var g) && g.ValueKind == JsonValueKind.Number && g.GetInt32() != 1) throw Fail($"layer `{name}`: grouped convolutions are not supported.");
                    string padding = Padding(cfg, name);
                    bool bias = Bool(cfg, "use_bias", true);
                    var l = Add(new Conv2D(filters, k, s, padding, Act(cfg, name), useBias: bias, name: name));
                    Weights(l, name, key, bias ? [[k.Item1, k.Item2, ch, filters], [filters]] : [[k.Item1, k.Item2, ch, filters]]);
                    _shape = [Out(h, k.Item1, s.Item1, padding, name), Out(w, k.Item2, s.Item2, padding, name), filters];
                    return;
                }
            case "MaxPooling2D" or "AveragePooling2D":
                {
                    var (h, w, ch) = Image(name);
                    var p = Pair(cfg, name, "pool_size", 2);
                    var s = cfg.TryGetProperty("strides", out var st) && st.ValueKind != JsonValueKind.Null ? Pair(cfg, name, "strides", null) : p;
                    string padding = Padding(cfg, name);
                    Add(cls == "MaxPooling2D" ? new MaxPooling2D(p, s, padding, name: name) : new AveragePooling2D(p, s, padding, name: name));
                    _shape = [Out(h, p.Item1, s.Item1, padding, name), Out(w, p.Item2, s.Item2, padding, name), ch];
                    return;
                }
            case "GlobalAveragePooling2D":
                {
                    var (_, _, ch) = Image(name);
                    if (Bool(cfg, "keepdims", false)) throw Fail($"layer `{name}`: keepdims=True is not supported.");
                    Add(new GlobalAveragePooling2D(name: name));
                    _shape = [ch];
                    _cf = false;
                    return;
                }
            case "ZeroPadding2D":
                {
                    var (h, w, _) = Image(name);
                    var ((t, b), (le, r)) = ZeroPads(cfg, name);
                    Add(new ZeroPadding2D(((t, b), (le, r)), name: name));
                    _shape = [h + t + b, w + le + r, _shape![2]];
                    return;
                }
            case "Flatten":
                // Keras's Flatten moves channels last first when its data_format is channels_first (Dendrite's order);
                // a channels_last Flatten of channels-first data keeps Keras's (C, H, W) order, reordered at the next Dense.
                if (_cf && _shape!.Length == 3 && Str(cfg, "data_format") is not "channels_first" && _shape[2] > 1) _flattened = _shape;
                Add(new Layers.Flatten(name: name));
                _shape = [_shape!.Aggregate(1, (a, b) => checked(a * b))];
                _cf = false;
                return;
            case "Dropout":
                Add(new Dropout(Math.Clamp(Float(cfg, "rate", 0f), 0f, 0.999f), name: name));
                return;
            case "Activation":
                Add(new Activation(Act(cfg, name), name: name));
                return;
            case "Rescaling":
                Add(new Rescaling(Scalar(cfg, name, "scale", 1f), Scalar(cfg, name, "offset", 0f), name: name));
                return;
            case "Reshape":
                {
                    var target = cfg.TryGetProperty("target_shape", out var ts) && ts.ValueKind == JsonValueKind.Array
                        ? ts.EnumerateArray().Select(x => x.TryGetInt32(out int v) ? v : throw Fail($"layer `{name}`: target_shape {ts.GetRawText()} is not a list of sizes.")).ToArray()
                        : throw Fail($"layer `{name}` has no target_shape.");
                    if (_cf && _shape!.Length == 3 && _shape[2] > 1)
                        throw Fail($"layer `{name}` reshapes channels-first data of {_shape[2]} channels; Dendrite holds images channels-last and cannot reshape them in Keras's order.");
                    int total = _shape!.Aggregate(1, (a, b) => checked(a * b));
                    if (target.Count(v => v == -1) == 1)
                    {
                        int known = target.Where(v => v != -1).Aggregate(1, (a, b) => checked(a * b));
                        if (known <= 0 || total % known != 0) throw Fail($"layer `{name}` cannot reshape {total} values to ({string.Join(", ", target)}).");
                        target[Array.IndexOf(target, -1)] = total / known;
                    }
                    _cf = false;
                    if (_channelsFirst && target.Length == 3)
                    {
                        if (target[0] != 1) throw Fail($"layer `{name}` reshapes to channels-first images of {target[0]} channels; Dendrite holds images channels-last and cannot reshape into Keras's order.");
                        target = [target[1], target[2], 1];
                        _cf = true;
                    }
                    Add(new Reshape(target, name: name));
                    _shape = target;
                    return;
                }
            case "BatchNormalization":
                {
                    int axis = cfg.TryGetProperty("axis", out var ax) ? (ax.ValueKind == JsonValueKind.Array && ax.GetArrayLength() == 1 ? ax[0].GetInt32() : ax.ValueKind == JsonValueKind.Number ? ax.GetInt32() : 0) : -1;
                    int rank = _shape!.Length + 1;
                    if (axis < 0) axis += rank;
                    int channels = _cf && rank == 4 ? 1 : rank - 1;
                    if (axis != channels) throw Fail($"layer `{name}` normalizes axis {axis} of {(_cf ? "channels-first" : "channels-last")} data; Dendrite normalizes the channel (last) axis only.");
                    bool center = Bool(cfg, "center", true), scale = Bool(cfg, "scale", true);
                    float epsilon = Float(cfg, "epsilon", 1e-3f), momentum = Math.Clamp(Float(cfg, "momentum", 0.99f), 0f, 1f);
                    var l = Add(new BatchNormalization(momentum, epsilon, center, scale, name: name));
                    int n = _shape![^1];
                    int count = (center ? 1 : 0) + (scale ? 1 : 0) + 2;
                    Weights(l, name, key, Enumerable.Repeat<int[]>([n], count).ToArray(), permuteRows: [.. Enumerable.Range(0, count)]);
                    return;
                }
        }
    }

    private Layer Add(Layer l) { _layers.Add(l); return l; }

    private void Weights(Layer l, string name, string key, int[][] shapes, int[]? permuteRows = null)
    {
        var w = _file.Weights(name, key, shapes);
        if (_flattened is { } f && permuteRows is not null)
            foreach (int i in permuteRows) w[i] = FromChannelsFirstOrder(w[i], f[0], f[1], f[2]);
        _weights.Add((l, w));
    }

    /// <summary>
    /// Rows (the first axis) of <paramref name="t"/> reordered from a flatten in Keras's (C, H, W) order to Dendrite's
    /// (H, W, C): Dendrite's row (y, x, c) is Keras's row (c, y, x).
    /// </summary>
    private static Tensor FromChannelsFirstOrder(Tensor t, int h, int w, int c)
    {
        var shape = t.ShapeSpan.ToArray();
        int cols = t.Length / shape[0];
        var from = t.ToArray();
        var to = new float[from.Length];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int ch = 0; ch < c; ch++)
                    Array.Copy(from, ((ch * h + y) * w + x) * cols, to, ((y * w + x) * c + ch) * cols, cols);
        return new Tensor(to, shape);
    }

    /// <summary>Keras v3 keys a layer's weights by its class in snake case plus a per-class counter, not by its name.</summary>
    private string Key(string cls)
    {
        string snake = SnakeA().Replace(cls, "$1_$2");
        snake = SnakeB().Replace(snake, "$1_$2").ToLowerInvariant();
        int n = _counters.TryGetValue(snake, out int seen) ? seen + 1 : 0;
        _counters[snake] = n;
        return n == 0 ? snake : $"{snake}_{n}";
    }

    [GeneratedRegex("(.)([A-Z][a-z]+)")] private static partial Regex SnakeA();
    [GeneratedRegex("([a-z])([A-Z])")] private static partial Regex SnakeB();

    private void CheckDtype(JsonElement cfg, string name)
    {
        if (!cfg.TryGetProperty("dtype", out var d) || d.ValueKind == JsonValueKind.Null) return;
        string? dtype = d.ValueKind == JsonValueKind.String ? d.GetString()
            : d.TryGetProperty("config", out var dc) ? Str(dc, "name") : null;
        if (dtype is null or "float32" or "float64" or "float16" or "bfloat16" or "mixed_float16" or "mixed_bfloat16") return;
        throw Fail($"layer `{name}` has dtype {dtype}; Dendrite imports floating-point models only.");
    }

    private (int H, int W, int C) Image(string name) =>
        _shape is { Length: 3 } s ? (s[0], s[1], s[2]) : throw Fail($"layer `{name}` needs images (height, width, channels); it receives shape ({string.Join(", ", _shape ?? [])}).");

    private int Out(int size, int k, int s, string padding, string name)
    {
        int o = padding == "same" ? (size + s - 1) / s : (size - k) / s + 1;
        return o > 0 && (padding == "same" || size >= k) ? o : throw Fail($"layer `{name}`: a window of {k} does not fit an input of {size}.");
    }

    private string Padding(JsonElement cfg, string name) => (Str(cfg, "padding") ?? "valid") is var p && p is "valid" or "same" ? p
        : throw Fail($"layer `{name}` has padding \"{p}\"; Dendrite supports \"valid\" and \"same\".");

    private int Int(JsonElement cfg, string name, string key) =>
        cfg.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) && i > 0 ? i
            : throw Fail($"layer `{name}`: `{key}` must be a positive whole number.");

    private static bool Bool(JsonElement cfg, string key, bool fallback) =>
        cfg.TryGetProperty(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;

    private static float Float(JsonElement cfg, string key, float fallback) =>
        cfg.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetSingle() : fallback;

    private float Scalar(JsonElement cfg, string name, string key, float fallback)
    {
        if (!cfg.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
        if (v.ValueKind == JsonValueKind.Number && float.IsFinite(v.GetSingle())) return v.GetSingle();
        throw Fail($"layer `{name}`: `{key}` must be a single number (per-channel values are not supported); received {v.GetRawText()}.");
    }

    private (int, int) Pair(JsonElement cfg, string name, string key, int? fallback)
    {
        if (!cfg.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
            return fallback is int f ? (f, f) : throw Fail($"layer `{name}` has no `{key}`.");
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int one) && one > 0) return (one, one);
        if (v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 2 && v[0].TryGetInt32(out int a) && v[1].TryGetInt32(out int b) && a > 0 && b > 0) return (a, b);
        throw Fail($"layer `{name}`: `{key}` {v.GetRawText()} is not one or two positive whole numbers.");
    }

    private ((int, int), (int, int)) ZeroPads(JsonElement cfg, string name)
    {
        if (!cfg.TryGetProperty("padding", out var v)) return ((1, 1), (1, 1));
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int p) && p >= 0) return ((p, p), (p, p));
        if (v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 2)
        {
            (int, int) Side(JsonElement e) =>
                e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int x) && x >= 0 ? (x, x)
                : e.ValueKind == JsonValueKind.Array && e.GetArrayLength() == 2 && e[0].TryGetInt32(out int a) && e[1].TryGetInt32(out int b) && a >= 0 && b >= 0 ? (a, b)
                : throw Fail($"layer `{name}`: padding {v.GetRawText()} is not understood.");
            return (Side(v[0]), Side(v[1]));
        }
        throw Fail($"layer `{name}`: padding {v.GetRawText()} is not understood.");
    }

    private ActivationFunction Act(JsonElement cfg, string name)
    {
        if (!cfg.TryGetProperty("activation", out var v) || v.ValueKind == JsonValueKind.Null) return ActivationFunction.Linear;
        string? a = v.ValueKind == JsonValueKind.String ? v.GetString() : Str(v, "config") is { } s ? s : Str(v, "class_name");
        if (v.ValueKind == JsonValueKind.Object && a is null && v.TryGetProperty("config", out var ac)) a = Str(ac, "name");
        a = a?.ToLowerInvariant();
        return a switch
        {
            "linear" or null => ActivationFunction.Linear,
            "relu" => ActivationFunction.Relu,
            "sigmoid" => ActivationFunction.Sigmoid,
            "tanh" => ActivationFunction.Tanh,
            "softmax" => ActivationFunction.Softmax,
            "log_softmax" => ActivationFunction.LogSoftmax,
            _ => throw Fail($"layer `{name}` uses activation \"{a}\"; Dendrite imports relu, sigmoid, tanh, softmax, log_softmax and linear."),
        };
    }
}
