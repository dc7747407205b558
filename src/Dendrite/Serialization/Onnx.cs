using System.Runtime.InteropServices;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Serialization.OnnxProto;
using Google.Protobuf;
using AttributeType = Dendrite.Serialization.OnnxProto.AttributeProto.Types.AttributeType;
using DataType = Dendrite.Serialization.OnnxProto.TensorProto.Types.DataType;

namespace Dendrite.Serialization;

/// <summary>
/// Exports a Sequential model to ONNX (IR version 7, opset 13). Dense → Gemm (or MatMul without a bias), Conv2D → Conv,
/// MaxPooling2D/AveragePooling2D → MaxPool/AveragePool (explicit pads for "same"), GlobalAveragePooling2D →
/// GlobalAveragePool, BatchNormalization → BatchNormalization with the moving statistics, Flatten → Flatten(axis 1),
/// Reshape → Reshape, Rescaling → Mul/Add, activations → Relu, Tanh, Sigmoid, Softmax and LogSoftmax (axis 1); Dropout and the random
/// augmentation layers (RandomTranslation, RandomRotation, RandomZoom) are the identity at inference and are left out. Dendrite keeps images channels-last (NHWC, as Keras) while ONNX's image ops are
/// channels-first (NCHW): the exporter inserts one Transpose into NCHW before the first image op and one back before
/// anything that depends on the element order (Flatten, Reshape, Dense), so the exported model takes and gives the
/// same tensors as the Dendrite model. The graph takes "input" of shape (batch, input shape...) and gives "output".
/// The messages are the classes generated from Dendrite's onnx.proto (Serialization/OnnxProto), which the importer reads
/// with too: one schema serves both directions.
/// </summary>
public static class Onnx
{
    public const int IrVersion = 7, Opset = 13;

    public static void Export(Sequential model, string path) => AtomicFile.Write(path, s => s.Write(Export(model)));

    public static byte[] Export(Sequential model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.IsBuilt) throw new InvalidOperationException("Only a built model can be exported: build it, or train it, first.");
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX export writes little-endian raw data.");
        var g = new GraphBuilder(model.InputShape.Length + 1);
        foreach (var layer in model.Layers)
        {
            switch (layer)
            {
                case Flatten:
                    g.ToChannelsLast();
                    g.Op("Flatten", [g.Current], ("axis", 1L));
                    g.Rank = 2;
                    break;
                case Reshape r:
                    g.ToChannelsLast();
                    g.Op("Reshape", [g.Current, g.Int64s($"{r.Name}/shape", [-1, .. r.OutputShape.Select(d => (long)d)])]);
                    g.Rank = r.OutputShape.Length + 1;
                    break;
                case Rescaling r:
                    g.Op("Mul", [g.Current, g.Floats($"{r.Name}/scale", [], [r.Scale])]);
                    if (r.Offset != 0) g.Op("Add", [g.Current, g.Floats($"{r.Name}/offset", [], [r.Offset])]);
                    break;
                case Dense d:
                {
                    g.ToChannelsLast();
                    string w = g.Floats(d.Kernel.Name, d.Kernel.Value.Shape, d.Kernel.Value.Span);
                    if (d.Bias is { } b) g.Op("Gemm", [g.Current, w, g.Floats(b.Name, b.Value.Shape, b.Value.Span)]);
                    else g.Op("MatMul", [g.Current, w]);
                    g.Activate(d.Activation);
                    break;
                }
                case Conv2D c:
                {
                    var geometry = Window(c.InputShape!, c.KernelSize, c.Strides, c.Padding);
                    g.ToChannelsFirst();
                    // Keras's kernel is (kh, kw, in, out); ONNX's W is (out, in, kh, kw).
                    var k = c.Kernel.Value;
                    int kh = k.Dim(0), kw = k.Dim(1), cin = k.Dim(2), cout = k.Dim(3);
                    var w = new float[k.Length];
                    var src = k.Span;
                    for (int a = 0; a < kh; a++)
                        for (int bb = 0; bb < kw; bb++)
                            for (int i = 0; i < cin; i++)
                                for (int o = 0; o < cout; o++)
                                    w[((o * cin + i) * kh + a) * kw + bb] = src[((a * kw + bb) * cin + i) * cout + o];
                    var inputs = new List<string> { g.Current, g.Floats(c.Kernel.Name, [cout, cin, kh, kw], w) };
                    if (c.Bias is { } b) inputs.Add(g.Floats(b.Name, b.Value.Shape, b.Value.Span));
                    g.Op("Conv", [.. inputs], ("kernel_shape", new long[] { kh, kw }), ("strides", new long[] { c.Strides.Height, c.Strides.Width }), ("pads", Pads(geometry)));
                    g.Activate(c.Activation);
                    break;
                }
                case Pooling2D p:
                {
                    var geometry = Window(p.InputShape!, p.PoolSize, p.Strides, p.Padding);
                    g.ToChannelsFirst();
                    g.Op(p is MaxPooling2D ? "MaxPool" : "AveragePool", [g.Current], ("kernel_shape", new long[] { p.PoolSize.Height, p.PoolSize.Width }),
                        ("strides", new long[] { p.Strides.Height, p.Strides.Width }), ("pads", Pads(geometry)));
                    break;
                }
                case ZeroPadding2D z:
                    g.ToChannelsFirst();
                    g.Op("Pad", [g.Current, g.Int64s($"{z.Name}/pads", [0, 0, z.Top, z.Left, 0, 0, z.Bottom, z.Right])]);
                    break;
                case GlobalAveragePooling2D:
                    g.ToChannelsFirst();
                    g.Op("GlobalAveragePool", [g.Current]);
                    g.ChannelsFirst = false;
                    g.Op("Flatten", [g.Current], ("axis", 1L));
                    g.Rank = 2;
                    break;
                case BatchNormalization bn:
                {
                    int c = bn.OutputShape[^1];
                    bool images = g.Rank == 4;
                    if (images) g.ToChannelsFirst();
                    else if (g.Rank != 2) throw new NotSupportedException($"BatchNormalization `{bn.Name}` over items of rank {g.Rank - 1} has no ONNX export.");
                    var ones = Enumerable.Repeat(1f, c).ToArray();
                    string gamma = bn.Gamma is { } gm ? g.Floats(gm.Name, [c], gm.Value.Span) : g.Floats($"{bn.Name}/gamma", [c], ones);
                    string beta = bn.Beta is { } bt ? g.Floats(bt.Name, [c], bt.Value.Span) : g.Floats($"{bn.Name}/beta", [c], new float[c]);
                    g.Op("BatchNormalization", [g.Current, gamma, beta, g.Floats(bn.MovingMean.Name, [c], bn.MovingMean.Value.Span), g.Floats(bn.MovingVariance.Name, [c], bn.MovingVariance.Value.Span)],
                        ("epsilon", bn.Epsilon), ("momentum", bn.Momentum));
                    break;
                }
                case Dropout or RandomAffineLayer:
                    break;
                case Activation a:
                    g.Activate(a.Function);
                    break;
                default:
                    throw new NotSupportedException($"Layer {layer.GetType().Name} has no ONNX export.");
            }
        }
        g.ToChannelsLast();
        g.Op("Identity", [g.Current], output: "output");
        var graph = g.Graph;
        graph.Name = "dendrite";
        graph.Input.Add(ValueInfo("input", [.. model.InputShape]));
        graph.Output.Add(ValueInfo("output", [.. model.OutputShape]));
        var m = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "dendrite",
            ProducerVersion = typeof(Onnx).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = graph,
        };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return m.ToByteArray();
    }

    private static Window2D Window(int[] input, Size2D window, Size2D strides, Padding padding) =>
        Window2D.Create(input[0], input[1], input[2], window, strides, padding, "export");

    /// <summary>ONNX pads: [top, left, bottom, right]; "same" puts the odd pixel at the bottom/right, as TensorFlow.</summary>
    private static long[] Pads(Window2D g)
    {
        int bottom = Math.Max((g.OH - 1) * g.SH + g.KH - g.H, 0) - g.PadTop;
        int right = Math.Max((g.OW - 1) * g.SW + g.KW - g.W, 0) - g.PadLeft;
        return [g.PadTop, g.PadLeft, Math.Max(0, bottom), Math.Max(0, right)];
    }

    /// <summary>The graph under construction: nodes and initializers, the name of the tensor the next layer reads, its rank, and whether it is channels-first.</summary>
    private sealed class GraphBuilder(int rank)
    {
        private int _k;
        public GraphProto Graph { get; } = new();
        public string Current { get; private set; } = "input";
        public int Rank { get; set; } = rank;
        public bool ChannelsFirst { get; set; }

        /// <summary>Adds a node reading <paramref name="inputs"/>; its output becomes <see cref="Current"/>.</summary>
        public void Op(string op, string[] inputs, params (string Name, object Value)[] attributes) => Op(op, inputs, null, attributes);

        public void Op(string op, string[] inputs, string? output, params (string Name, object Value)[] attributes)
        {
            output ??= $"t{_k}";
            var n = new NodeProto { Name = $"{op.ToLowerInvariant()}_{_k++}", OpType = op };
            n.Input.Add(inputs);
            n.Output.Add(output);
            foreach (var (name, value) in attributes)
            {
                var a = new AttributeProto { Name = name };
                switch (value)
                {
                    case long i: a.Type = AttributeType.Int; a.I = i; break;
                    case float f: a.Type = AttributeType.Float; a.F = f; break;
                    case long[] ints: a.Type = AttributeType.Ints; a.Ints.Add(ints); break;
                    default: throw new InvalidOperationException($"ONNX attribute {name} of type {value.GetType().Name}");
                }
                n.Attribute.Add(a);
            }
            Graph.Node.Add(n);
            Current = output;
        }

        public string Floats(string name, int[] dims, ReadOnlySpan<float> values) => Initializer(name, dims, DataType.Float, MemoryMarshal.AsBytes(values));

        public string Int64s(string name, long[] values) => Initializer(name, [values.Length], DataType.Int64, MemoryMarshal.AsBytes(values.AsSpan()));

        private string Initializer(string name, int[] dims, DataType type, ReadOnlySpan<byte> raw)
        {
            var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };   // raw_data: little-endian
            foreach (int d in dims) t.Dims.Add(d);
            Graph.Initializer.Add(t);
            return name;
        }

        public void Activate(ActivationFunction f)
        {
            string? op = f.Kind switch
            {
                ActivationFunction.Kinds.Relu => "Relu",
                ActivationFunction.Kinds.Tanh => "Tanh",
                ActivationFunction.Kinds.Sigmoid => "Sigmoid",
                ActivationFunction.Kinds.Softmax => "Softmax",
                ActivationFunction.Kinds.LogSoftmax => "LogSoftmax",
                _ => null,
            };
            if (op is "Softmax" or "LogSoftmax") { ToChannelsLast(); Op(op, [Current], ("axis", (long)(Rank - 1))); }
            else if (op is not null) Op(op, [Current]);
        }

        /// <summary>NHWC → NCHW before an image op, once.</summary>
        public void ToChannelsFirst()
        {
            if (ChannelsFirst) return;
            if (Rank != 4) throw new NotSupportedException($"An image layer needs (batch, height, width, channels) inputs; this one has rank {Rank}.");
            Op("Transpose", [Current], ("perm", new long[] { 0, 3, 1, 2 }));
            ChannelsFirst = true;
        }

        /// <summary>NCHW → NHWC before anything that depends on Keras's element order.</summary>
        public void ToChannelsLast()
        {
            if (!ChannelsFirst) return;
            Op("Transpose", [Current], ("perm", new long[] { 0, 2, 3, 1 }));
            ChannelsFirst = false;
        }
    }

    /// <summary>A float tensor value of shape (batch, dims...), the batch named "batch".</summary>
    private static ValueInfoProto ValueInfo(string name, int[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (int d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)DataType.Float, Shape = shape } } };
    }
}
