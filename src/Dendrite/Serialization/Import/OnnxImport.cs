using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;

namespace Dendrite.Serialization.Import;

/// <summary>
/// Turns an ONNX graph into a <see cref="Sequential"/> model. The graph must be one chain from its input to its output;
/// side computations on constants (the Shape → Gather → Unsqueeze → Concat chains that torch.onnx.export writes for
/// <c>x.view(x.size(0), -1)</c>) are folded at load. ONNX images are NCHW, Dendrite's NHWC: kernels are permuted, and a
/// Dense layer after a flatten of NCHW data gets its rows permuted from (C, H, W) order to Dendrite's (H, W, C) order.
/// </summary>
internal sealed partial class OnnxImport
{
    public static readonly string[] SupportedOps =
    [
        "Add", "AveragePool", "BatchNormalization", "Cast", "Concat", "Constant", "ConstantOfShape", "Conv", "Div", "Dropout", "Flatten",
        "Gather", "Gemm", "GlobalAveragePool", "Identity", "LogSoftmax", "MatMul", "MaxPool", "Mul", "Pad", "Relu", "Reshape", "Shape",
        "Sigmoid", "Slice", "Softmax", "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze",
    ];

    /// <summary>The one value flowing through the model: its ONNX shape (batch first, -1) and how Dendrite holds it.</summary>
    private sealed record Live(long[] Shape, bool Nchw, int[]? OnnxToDendrite, Layer? Producer);

    private sealed class Pending(Layer layer, Tensor[] weights)
    {
        public Layer Layer { get; } = layer;
        public Tensor[] Weights { get; } = weights;
    }

    private readonly OnnxModel _m;
    private readonly string _what;
    private readonly Dictionary<string, OnnxTensor> _consts;
    private readonly Dictionary<string, Live> _live = [];
    private readonly List<Layer> _layers = [];
    private readonly List<Pending> _weights = [];

    private OnnxImport(OnnxModel m, string what)
    {
        _m = m; _what = what;
        _consts = new(m.Initializers);
    }

    public static Sequential Convert(OnnxModel m, string what, Layer? front = null)
    {
        if (m.Opset is not 0 and (< 7 or > 21))
            throw new InvalidDataFormatException($"{what} uses ONNX opset {m.Opset}; Dendrite imports opsets 7 to 21.");
        var c = new OnnxImport(m, what);
        return c.Run(front);
    }

    private InvalidDataFormatException Fail(OnnxNode n, string why) => new($"{_what}: {n.Label}: {why}");

    private Sequential Run(Layer? front)
    {
        if (_m.Inputs.Count != 1) throw new InvalidDataFormatException($"{_what} has {_m.Inputs.Count} inputs ({string.Join(", ", _m.Inputs.Select(i => i.Name))}); Dendrite imports models with one input.");
        if (_m.Outputs.Count != 1) throw new InvalidDataFormatException($"{_what} has {_m.Outputs.Count} outputs; Dendrite imports models with one output.");
        var (inName, dims) = _m.Inputs[0];
        if (dims.Length < 2 || dims.Skip(1).Any(d => d <= 0))
            throw new InvalidDataFormatException($"{_what}: input `{inName}` has shape ({string.Join(", ", dims.Select(d => d < 0 ? "?" : d.ToString()))}); Dendrite needs a batch axis followed by fixed sizes.");
        var shape = dims.ToArray(); shape[0] = -1;
        int[] inputShape;
        // A 4-D input on its way to a Transpose to NCHW is channels-last already (as Dendrite's own export writes).
        bool channelsLast = shape.Length == 4 && ReachesTransposeToNchw(inName);
        if (shape.Length == 4 && !channelsLast)
        {
            // NCHW images: Dendrite is given them channels-last (H, W, C), or (H, W) for one channel.
            int ch = (int)shape[1], h = (int)shape[2], w = (int)shape[3];
            if (ch == 1) { inputShape = [h, w]; Emit(new Reshape([h, w, 1])); }
            else inputShape = [h, w, ch];
            _live[inName] = new Live(shape, true, null, null);
        }
        else
        {
            inputShape = shape.Skip(1).Select(d => (int)d).ToArray();
            _live[inName] = new Live(shape, false, null, null);
        }

        foreach (var n in _m.Nodes) Step(n);

        string outName = _m.Outputs[0];
        if (!_live.TryGetValue(outName, out var result))
            throw new InvalidDataFormatException($"{_what}: the output `{outName}` does not depend on the input.");
        if (result.OnnxToDendrite is not null)
            throw new InvalidDataFormatException($"{_what}: the output is flattened channels-first data with no Dense layer after it; Dendrite cannot reorder it.");

        var layers = new List<Layer>();
        if (front is not null) layers.Add(front);
        layers.AddRange(_layers);
        if (layers.Count == 0) layers.Add(new Reshape(inputShape));
        var model = new Sequential(layers.ToArray());
        model.Build(inputShape);
        foreach (var p in _weights) p.Layer.SetWeights(p.Weights);
        return model;
    }

    /// <summary>
    /// Whether <paramref name="name"/> flows, through element-wise ops alone (a rescaling's Mul and Add, activations), into
    /// a Transpose (0, 3, 1, 2): then it is channels-last data, as Dendrite's exporter writes a model whose first layers
    /// work on pixels before the first image layer.
    /// </summary>
    private bool ReachesTransposeToNchw(string name)
    {
        for (int step = 0; step < 64; step++)
        {
            var users = _m.Nodes.Where(n => n.Inputs.Contains(name)).Take(2).ToList();
            if (users.Count != 1) return false;
            var n = users[0];
            if (n.OpType == "Transpose") return n.Inputs[0] == name && (n.Ints("perm") ?? []).SequenceEqual([0L, 3, 1, 2]);
            if (n.OpType is not ("Mul" or "Add" or "Sub" or "Div" or "Identity" or "Dropout" or "Relu" or "Sigmoid" or "Tanh") || n.Outputs.Length == 0) return false;
            name = n.Outputs[0];
        }
        return false;
    }

    private Layer Emit(Layer l) { _layers.Add(l); return l; }

    private OnnxTensor? Const(string name) => name.Length > 0 && _consts.TryGetValue(name, out var t) ? t : null;

    private OnnxTensor NeedConst(OnnxNode n, int i, string what)
    {
        if (i >= n.Inputs.Length || Const(n.Inputs[i]) is not { } t)
            throw Fail(n, $"its {what} must be a constant (an initializer or folded at load).");
        return t;
    }

    private Live NeedLive(OnnxNode n, int i = 0)
    {
        if (i >= n.Inputs.Length || !_live.TryGetValue(n.Inputs[i], out var l))
            throw Fail(n, $"input `{(i < n.Inputs.Length ? n.Inputs[i] : "")}` is unknown.");
        return l;
    }

    private void Step(OnnxNode n)
    {
        if (n.Domain is not ("" or "ai.onnx"))
            throw Fail(n, $"ops of domain `{n.Domain}` are not supported. Dendrite imports these ONNX ops: {string.Join(", ", SupportedOps)}.");
        bool anyLive = n.Inputs.Any(_live.ContainsKey);
        if (!anyLive && n.OpType != "Shape") { Fold(n); return; }
        string output = n.Outputs.Length > 0 ? n.Outputs[0] : throw Fail(n, "it has no output.");
        switch (n.OpType)
        {
            case "Shape":
                {
                    // The batch size is unknown at load: it becomes 0, which Reshape reads as "keep this dimension".
                    var s = NeedLive(n).Shape.Select(d => d < 0 ? 0 : d).ToArray();
                    // Opset 15 adds start and end (negative from the back, clamped).
                    long start = n.Int("start", 0), end = n.Int("end", s.Length);
                    start = Math.Clamp(start < 0 ? start + s.Length : start, 0, s.Length);
                    end = Math.Clamp(end < 0 ? end + s.Length : end, start, s.Length);
                    s = s[(int)start..(int)end];
                    _consts[output] = new OnnxTensor(output, [s.Length], null, s);
                    return;
                }
            case "Identity": _live[output] = NeedLive(n); return;
            case "Dropout":
                {
                    // Before opset 12 the ratio is an attribute; from 12 ratio and training_mode are inputs. Inference only.
                    if (n.Inputs.Length > 2 && n.Inputs[2].Length > 0 && NeedConst(n, 2, "training_mode").AsInts().Any(v => v != 0))
                        throw Fail(n, "it is in training mode; Dendrite imports models for inference (export them in eval mode).");
                    _live[output] = NeedLive(n);
                    return;
                }
            case "Relu": Activate(n, ActivationFunction.Relu); return;
            case "Sigmoid": Activate(n, ActivationFunction.Sigmoid); return;
            case "Tanh": Activate(n, ActivationFunction.Tanh); return;
            case "Softmax" or "LogSoftmax":
                {
                    // Before opset 13 the axis defaults to 1 and the input is seen as 2-D, (product of the dimensions before
                    // axis, product of the rest); from 13 it defaults to -1 and runs along that axis alone. For the
                    // (batch, features) data Dendrite applies it to, with axis 1 or -1, both are its softmax over the features.
                    var x = NeedLive(n);
                    long axis = n.Int("axis", _m.Opset is > 0 and < 13 ? 1 : -1);
                    if (axis < 0) axis += x.Shape.Length;
                    if (x.Shape.Length != 2 || axis != 1) throw Fail(n, $"Dendrite's {n.OpType} runs over the features of a (batch, features) tensor; this one has rank {x.Shape.Length}, axis {n.Int("axis", _m.Opset is > 0 and < 13 ? 1 : -1)}.");
                    Activate(n, n.OpType == "Softmax" ? ActivationFunction.Softmax : ActivationFunction.LogSoftmax);
                    return;
                }
            case "Conv": Conv(n); return;
            case "MaxPool" or "AveragePool": Pool(n); return;
            case "GlobalAveragePool":
                {
                    var x = NeedLive(n);
                    if (!x.Nchw) throw Fail(n, "its input is not an image batch (N, C, H, W).");
                    var l = Emit(new GlobalAveragePooling2D());
                    _live[output] = new Live([-1, x.Shape[1], 1, 1], true, null, l);
                    return;
                }
            case "BatchNormalization": BatchNorm(n); return;
            case "Gemm" or "MatMul": Dense(n); return;
            case "Add": Add(n); return;
            case "Mul" or "Sub" or "Div": Rescale(n); return;
            case "Pad": Pad(n); return;
            case "Flatten":
                {
                    var x = NeedLive(n);
                    if (n.Int("axis", 1) != 1) throw Fail(n, "only axis 1 (keep the batch) is supported.");
                    Flatten(n, x, output);
                    return;
                }
            case "Reshape": Reshape(n); return;
            case "Unsqueeze":
                {
                    var x = NeedLive(n);
                    if (x.Nchw && x.Shape[1] != 1) throw Fail(n, "unsqueezing channels-first images is not supported.");
                    var axes = n.Ints("axes") is { Length: > 0 } a ? a : NeedConst(n, 1, "axes").AsInts();
                    var s = x.Shape.ToList();
                    foreach (long ax in axes.Select(v => v < 0 ? v + x.Shape.Length + axes.Length : v).Order()) s.Insert((int)ax, 1);
                    if (s[0] != -1) throw Fail(n, "it would move the batch axis.");
                    var l = Emit(new Reshape(s.Skip(1).Select(d => (int)d).ToArray()));
                    _live[output] = new Live(s.ToArray(), false, null, l);
                    return;
                }
            case "Transpose":
                {
                    var x = NeedLive(n);
                    var perm = n.Ints("perm") ?? Enumerable.Range(0, x.Shape.Length).Reverse().Select(i => (long)i).ToArray();
                    if (perm.SequenceEqual([0L, 2, 3, 1]) && x.Nchw)
                        _live[output] = new Live([-1, x.Shape[2], x.Shape[3], x.Shape[1]], false, null, x.Producer);
                    else if (perm.SequenceEqual([0L, 3, 1, 2]) && !x.Nchw && x.Shape.Length == 4)
                        _live[output] = new Live([-1, x.Shape[3], x.Shape[1], x.Shape[2]], true, null, x.Producer);
                    else if (perm.Select((p, i) => p == i).All(b => b))
                        _live[output] = x;
                    else throw Fail(n, $"only the NCHW↔NHWC transposes (0, 2, 3, 1) and (0, 3, 1, 2) are supported; this one is ({string.Join(", ", perm)}).");
                    return;
                }
            default:
                throw Fail(n, $"op {n.OpType} is not supported. Dendrite imports these ONNX ops: {string.Join(", ", SupportedOps)}.");
        }
    }

    private void Activate(OnnxNode n, ActivationFunction f)
    {
        var x = NeedLive(n);
        var l = Emit(new Activation(f));
        _live[n.Outputs[0]] = x with { Producer = l };
    }

    private static int[] Ints(long[] v) => v.Select(x => (int)x).ToArray();

    /// <summary>Pads (top, left, bottom, right) of a window op, from auto_pad or pads.</summary>
    private static (int T, int L, int B, int R) Pads(OnnxNode n, int h, int w, int kh, int kw, int sh, int sw)
    {
        string auto = n.Text("auto_pad") ?? "NOTSET";
        if (auto is "VALID") return (0, 0, 0, 0);
        if (auto is "SAME_UPPER" or "SAME_LOWER")
        {
            int oh = (h + sh - 1) / sh, ow = (w + sw - 1) / sw;
            int ph = Math.Max((oh - 1) * sh + kh - h, 0), pw = Math.Max((ow - 1) * sw + kw - w, 0);
            return auto == "SAME_UPPER" ? (ph / 2, pw / 2, ph - ph / 2, pw - pw / 2) : (ph - ph / 2, pw - pw / 2, ph / 2, pw / 2);
        }
        var p = n.Ints("pads") is { Length: 4 } a ? Ints(a) : [0, 0, 0, 0];
        return (p[0], p[1], p[2], p[3]);
    }

    /// <summary>"valid" or "same" when Keras padding gives exactly these pads; null otherwise.</summary>
    private static string? KerasPadding((int T, int L, int B, int R) p, int h, int w, int kh, int kw, int sh, int sw)
    {
        if (p == (0, 0, 0, 0)) return "valid";
        int oh = (h + sh - 1) / sh, ow = (w + sw - 1) / sw;
        int ph = Math.Max((oh - 1) * sh + kh - h, 0), pw = Math.Max((ow - 1) * sw + kw - w, 0);
        return p == (ph / 2, pw / 2, ph - ph / 2, pw - pw / 2) ? "same" : null;
    }

    private (int H, int W, int C) Image(OnnxNode n, Live x)
    {
        if (!x.Nchw || x.Shape.Length != 4) throw Fail(n, "its input is not an image batch (N, C, H, W).");
        return ((int)x.Shape[2], (int)x.Shape[3], (int)x.Shape[1]);
    }

    private void Conv(OnnxNode n)
    {
        var x = NeedLive(n);
        var (h, w, c) = Image(n, x);
        var k = NeedConst(n, 1, "weight");
        if (k.Dims.Length != 4) throw Fail(n, "only 2-D convolutions are supported.");
        if (n.Int("group", 1) != 1) throw Fail(n, "grouped convolutions are not supported.");
        if (n.Ints("dilations") is { } d && d.Any(v => v != 1)) throw Fail(n, "dilated convolutions are not supported.");
        int m = (int)k.Dims[0], kc = (int)k.Dims[1], kh = (int)k.Dims[2], kw = (int)k.Dims[3];
        if (kc != c) throw Fail(n, $"its kernel takes {kc} channels; its input has {c}.");
        var s = n.Ints("strides") is { Length: 2 } st ? Ints(st) : [1, 1];
        var pads = Pads(n, h, w, kh, kw, s[0], s[1]);
        string padding = KerasPadding(pads, h, w, kh, kw, s[0], s[1]) ?? ZeroPad(n, pads, ref h, ref w, c);
        var kernel = new float[kh * kw * c * m];
        var src = k.AsFloats();
        for (int o = 0; o < m; o++)
            for (int i = 0; i < c; i++)
                for (int y = 0; y < kh; y++)
                    for (int z = 0; z < kw; z++)
                        kernel[((y * kw + z) * c + i) * m + o] = src[((o * c + i) * kh + y) * kw + z];
        var bias = n.Inputs.Length > 2 && n.Inputs[2].Length > 0 ? NeedConst(n, 2, "bias").AsFloats() : new float[m];
        var layer = Emit(new Conv2D(m, (kh, kw), (s[0], s[1]), padding));
        _weights.Add(new Pending(layer, [new Tensor(kernel, kh, kw, c, m), new Tensor(bias, m)]));
        int oh = padding == "same" ? (h + s[0] - 1) / s[0] : (h - kh) / s[0] + 1;
        int ow = padding == "same" ? (w + s[1] - 1) / s[1] : (w - kw) / s[1] + 1;
        _live[n.Outputs[0]] = new Live([-1, m, oh, ow], true, null, layer);
    }

    /// <summary>Explicit pads that Keras's "same" does not give: a ZeroPadding2D layer, then a "valid" window.</summary>
    private string ZeroPad(OnnxNode n, (int T, int L, int B, int R) p, ref int h, ref int w, int c)
    {
        if (n.OpType != "Conv") throw Fail(n, $"pads ({p.T}, {p.L}, {p.B}, {p.R}) are not Keras's \"same\" padding, which is all Dendrite's pooling supports.");
        Emit(new ZeroPadding2D(((p.T, p.B), (p.L, p.R))));
        h += p.T + p.B; w += p.L + p.R;
        _ = c;
        return "valid";
    }

    private void Pool(OnnxNode n)
    {
        var x = NeedLive(n);
        var (h, w, c) = Image(n, x);
        var k = n.Ints("kernel_shape") is { Length: 2 } ks ? Ints(ks) : throw Fail(n, "it needs a 2-D kernel_shape.");
        var s = n.Ints("strides") is { Length: 2 } st ? Ints(st) : [1, 1];
        if (n.Int("ceil_mode", 0) != 0 && ((h - k[0]) % s[0] != 0 || (w - k[1]) % s[1] != 0)) throw Fail(n, "ceil_mode 1 is not supported.");
        if (n.Ints("dilations") is { } d && d.Any(v => v != 1)) throw Fail(n, "dilated pooling is not supported.");
        var pads = Pads(n, h, w, k[0], k[1], s[0], s[1]);
        string padding = KerasPadding(pads, h, w, k[0], k[1], s[0], s[1]) ?? ZeroPad(n, pads, ref h, ref w, c);
        if (n.OpType == "AveragePool" && padding == "same" && n.Int("count_include_pad", 0) != 0) throw Fail(n, "count_include_pad 1 is not supported.");
        Layer l = n.OpType == "MaxPool" ? new MaxPooling2D((k[0], k[1]), (s[0], s[1]), padding) : new AveragePooling2D((k[0], k[1]), (s[0], s[1]), padding);
        Emit(l);
        int oh = padding == "same" ? (h + s[0] - 1) / s[0] : (h - k[0]) / s[0] + 1;
        int ow = padding == "same" ? (w + s[1] - 1) / s[1] : (w - k[1]) / s[1] + 1;
        _live[n.Outputs[0]] = new Live([-1, c, oh, ow], true, null, l);
    }

    private void BatchNorm(OnnxNode n)
    {
        var x = NeedLive(n);
        if (x.OnnxToDendrite is not null) throw Fail(n, "batch normalization of flattened channels-first data is not supported.");
        if (!(x.Nchw || x.Shape.Length == 2)) throw Fail(n, "Dendrite normalizes the channels of (N, C, H, W) images or the features of (N, F) data.");
        if (n.Int("training_mode", 0) != 0) throw Fail(n, "it is in training mode; Dendrite imports models for inference (export them in eval mode).");
        if (n.Int("spatial", 1) != 1) throw Fail(n, "spatial 0 (statistics per value rather than per channel, opsets before 9) is not supported.");
        var t = Enumerable.Range(1, 4).Select(i => NeedConst(n, i, "scale, bias, mean and variance").AsFloats()).ToArray();
        var l = Emit(new BatchNormalization(momentum: Math.Clamp(n.Float("momentum", 0.9f), 0f, 1f), epsilon: n.Float("epsilon", 1e-5f)));
        _weights.Add(new Pending(l, t.Select(a => new Tensor(a, a.Length)).ToArray()));
        _live[n.Outputs[0]] = x with { Producer = l };
    }

    private void Dense(OnnxNode n)
    {
        var x = NeedLive(n);
        if (x.Shape.Length != 2) throw Fail(n, $"Dendrite multiplies (batch, features) data; this input has rank {x.Shape.Length}.");
        var b = NeedConst(n, 1, "weight");
        if (b.Dims.Length != 2) throw Fail(n, "its weight must be a matrix.");
        bool transB = n.OpType == "Gemm" && n.Int("transB", 0) != 0;
        if (n.OpType == "Gemm" && n.Int("transA", 0) != 0) throw Fail(n, "transA is not supported.");
        float alpha = n.OpType == "Gemm" ? n.Float("alpha", 1f) : 1f, beta = n.OpType == "Gemm" ? n.Float("beta", 1f) : 1f;
        int k = (int)(transB ? b.Dims[1] : b.Dims[0]), m = (int)(transB ? b.Dims[0] : b.Dims[1]);
        if (k != x.Shape[1]) throw Fail(n, $"its weight takes {k} features; its input has {x.Shape[1]}.");
        var src = b.AsFloats();
        var kernel = new float[k * m];
        for (int i = 0; i < k; i++)
        {
            int row = x.OnnxToDendrite is { } map ? map[i] : i;
            for (int j = 0; j < m; j++) kernel[row * m + j] = alpha * (transB ? src[j * k + i] : src[i * m + j]);
        }
        var bias = new float[m];
        if (n.OpType == "Gemm" && n.Inputs.Length > 2 && n.Inputs[2].Length > 0)
        {
            var c = NeedConst(n, 2, "bias").AsFloats();
            if (c.Length != m && c.Length != 1) throw Fail(n, $"its bias has {c.Length} values for {m} outputs.");
            for (int j = 0; j < m; j++) bias[j] = beta * c[c.Length == 1 ? 0 : j];
        }
        var l = Emit(new Dense(m));
        _weights.Add(new Pending(l, [new Tensor(kernel, k, m), new Tensor(bias, m)]));
        _live[n.Outputs[0]] = new Live([-1, m], false, null, l);
    }

    /// <summary>Adding a constant to a Dense or Conv2D output goes into its bias (MatMul + Add is how tf2onnx writes Dense).</summary>
    private void Add(OnnxNode n)
    {
        int li = _live.ContainsKey(n.Inputs[0]) ? 0 : 1;
        var x = NeedLive(n, li);
        var c = NeedConst(n, 1 - li, "addend");
        var p = _weights.LastOrDefault();
        if (p is null || !ReferenceEquals(p.Layer, x.Producer) || p.Layer is not (Layers.Dense or Conv2D) || !ReferenceEquals(_layers[^1], p.Layer))
        {
            if (c.Count == 1) { Rescale(n); return; }
            throw Fail(n, "Dendrite adds a constant vector only right after a MatMul, Gemm or Conv (as a bias), or a single number anywhere.");
        }
        var bias = p.Weights[1].Span;
        var add = c.AsFloats();
        if (add.Length != bias.Length && add.Length != 1) throw Fail(n, $"it adds {add.Length} values to {bias.Length} outputs.");
        for (int j = 0; j < bias.Length; j++) bias[j] += add[add.Length == 1 ? 0 : j];
        _live[n.Outputs[0]] = x;
    }

    /// <summary>x * c, x + c, x - c or x / c with a single number c: a <see cref="Rescaling"/> layer.</summary>
    private void Rescale(OnnxNode n)
    {
        int li = _live.ContainsKey(n.Inputs[0]) ? 0 : 1;
        var x = NeedLive(n, li);
        var c = NeedConst(n, 1 - li, "other operand");
        if (c.Count != 1) throw Fail(n, $"Dendrite applies {n.OpType} to its input with a single constant number only; this constant has {c.Count} values.");
        if (li == 1 && n.OpType is "Sub" or "Div") throw Fail(n, $"only input {n.OpType} constant is supported, not constant {n.OpType} input.");
        float v = c.AsFloats()[0];
        var l = Emit(n.OpType switch
        {
            "Mul" => new Rescaling(v),
            "Div" => new Rescaling(1f / v),
            "Add" => new Rescaling(1f, v),
            _ => new Rescaling(1f, -v),
        });
        _live[n.Outputs[0]] = x with { Producer = l };
    }

    /// <summary>Zero padding of the height and width of NCHW images: a <see cref="ZeroPadding2D"/> layer.</summary>
    private void Pad(OnnxNode n)
    {
        var x = NeedLive(n);
        Image(n, x);
        if ((n.Text("mode") ?? "constant") != "constant") throw Fail(n, "only constant (zero) padding is supported.");
        // Before opset 11, pads and value are attributes; from 11, inputs (pads, constant_value), and from 18 axes too.
        var pads = _m.Opset is > 0 and < 11 || n.Attributes.ContainsKey("pads") ? n.Ints("pads") ?? [] : NeedConst(n, 1, "pads").AsInts();
        if (n.Float("value", 0f) != 0 || n.Inputs.Length > 2 && n.Inputs[2].Length > 0 && NeedConst(n, 2, "constant_value").AsFloats().Any(v => v != 0))
            throw Fail(n, "only zero padding is supported.");
        if (n.Inputs.Length > 3 && n.Inputs[3].Length > 0)
        {
            var axes = NeedConst(n, 3, "axes").AsInts().Select(v => v < 0 ? v + 4 : v).ToArray();
            if (pads.Length != 2 * axes.Length || axes.Any(v => v is < 0 or > 3) || axes.Distinct().Count() != axes.Length) throw Fail(n, "its pads do not match its axes.");
            var full = new long[8];
            for (int i = 0; i < axes.Length; i++) { full[axes[i]] = pads[i]; full[axes[i] + 4] = pads[i + axes.Length]; }
            pads = full;
        }
        if (pads.Length != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 || pads.Any(p => p < 0))
            throw Fail(n, "only non-negative padding of height and width is supported.");
        if (pads.All(p => p == 0)) { _live[n.Outputs[0]] = x; return; }   // torch writes one before an unpadded AveragePool
        var l = Emit(new ZeroPadding2D((((int)pads[2], (int)pads[6]), ((int)pads[3], (int)pads[7]))));
        _live[n.Outputs[0]] = new Live([-1, x.Shape[1], x.Shape[2] + pads[2] + pads[6], x.Shape[3] + pads[3] + pads[7]], true, null, l);
    }

    private void Flatten(OnnxNode n, Live x, string output)
    {
        long features = x.Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        int[]? map = null;
        if (x.Nchw && x.Shape[1] > 1 && x.Shape[2] * x.Shape[3] > 1)
        {
            int c = (int)x.Shape[1], h = (int)x.Shape[2], w = (int)x.Shape[3];
            map = new int[c * h * w];
            for (int ci = 0; ci < c; ci++)
                for (int y = 0; y < h; y++)
                    for (int z = 0; z < w; z++)
                        map[(ci * h + y) * w + z] = (y * w + z) * c + ci;
        }
        var l = Emit(new Layers.Flatten());
        _live[output] = new Live([-1, features], false, map, l);
    }

    private void Reshape(OnnxNode n)
    {
        var x = NeedLive(n);
        var target = NeedConst(n, 1, "shape").AsInts().ToArray();
        if (n.Int("allowzero", 0) != 0 && target.Contains(0)) throw Fail(n, "allowzero with a zero dimension is not supported.");
        for (int i = 0; i < target.Length; i++) if (target[i] == 0) target[i] = i < x.Shape.Length ? x.Shape[i] : throw Fail(n, "a 0 dimension past the input's rank.");
        long features = x.Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        if (target.Length == 0 || (target[0] != -1 && target.Skip(1).Contains(-1)))
            throw Fail(n, $"the target shape ({string.Join(", ", target)}) does not keep the batch axis; Dendrite needs the batch first.");
        target[0] = -1;
        // One -1 after the batch takes what the others leave (x.view(x.size(0), -1) gives (0, -1): keep the batch, flatten the rest).
        var rest = target[1..];
        long known = rest.Where(d => d != -1).Aggregate(1L, (a, b) => a * b);
        if (rest.Count(d => d == -1) > 1 || rest.Any(d => d < -1) || known <= 0 || features % known != 0)
            throw Fail(n, $"cannot reshape {features} features to ({string.Join(", ", rest)}).");
        if (Array.IndexOf(rest, -1) is var at && at >= 0) target[at + 1] = features / known;
        if (target.Skip(1).Aggregate(1L, (a, b) => a * b) != features) throw Fail(n, $"cannot reshape {features} features to ({string.Join(", ", target.Skip(1))}).");
        if (target.Length == 2) { Flatten(n, x, n.Outputs[0]); return; }
        if (x.Nchw && x.Shape[1] != 1) throw Fail(n, "reshaping channels-first images other than by flattening them is not supported.");
        if (target.Length == 4)
        {
            // To (N, C, H, W): Dendrite holds it channels-last, which is the same data when C is 1.
            // Otherwise it is channels-last data (N, H, W, C) on its way to a Transpose, as Dendrite's own export writes.
            if (target[1] == 1)
            {
                var l = Emit(new Reshape([(int)target[2], (int)target[3], 1]));
                _live[n.Outputs[0]] = new Live(target, true, null, l);
                return;
            }
        }
        var r = Emit(new Reshape(Ints(target[1..])));
        _live[n.Outputs[0]] = new Live(target, false, null, r);
    }
}
