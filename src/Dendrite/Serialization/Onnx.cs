using System.Runtime.InteropServices;
using System.Text;
using Dendrite.Layers;
using Dendrite.Models;

namespace Dendrite.Serialization;

/// <summary>
/// Exports a Sequential model to ONNX (IR version 7, opset 13): Flatten → Flatten(axis 1), Rescaling → Mul/Add,
/// Dense → Gemm (or MatMul without a bias) followed by its activation (Relu, Tanh, Sigmoid, Softmax on axis 1).
/// The graph takes "input" of shape (batch, input shape...) and gives "output", the model's outputs. The few
/// protobuf messages are written directly (see <see cref="ProtoWriter"/>), so exporting needs no package.
/// </summary>
public static class Onnx
{
    public const int IrVersion = 7, Opset = 13;

    public static void Export(Sequential model, string path) => AtomicFile.Write(path, s => s.Write(Export(model)));

    public static byte[] Export(Sequential model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.IsBuilt) throw new InvalidOperationException("Only a built model can be exported: build it, or train it, first.");
        var graph = new ProtoWriter();
        string current = "input";
        int k = 0;
        string Next() => $"t{k++}";
        void Node(string op, string[] inputs, string output, params (string name, long value)[] intAttrs)
        {
            var n = new ProtoWriter();
            foreach (var i in inputs) n.String(1, i);
            n.String(2, output);
            n.String(3, $"{op.ToLowerInvariant()}_{k}");
            n.String(4, op);
            foreach (var (name, value) in intAttrs)
            {
                var a = new ProtoWriter();
                a.String(1, name);
                a.Varint(20, 2);     // AttributeType.INT
                a.Varint(3, (ulong)value);
                n.Message(5, a);
            }
            graph.Message(1, n);
        }
        void Initializer(string name, int[] dims, ReadOnlySpan<float> values)
        {
            var t = new ProtoWriter();
            foreach (int d in dims) t.Varint(1, (ulong)d);
            t.Varint(2, 1);          // DataType.FLOAT
            t.String(8, name);
            t.Bytes(9, MemoryMarshal.AsBytes(values));  // raw_data: little-endian floats
            graph.Message(5, t);
        }
        void Activate(ActivationFunction f)
        {
            string? op = f.Kind switch
            {
                ActivationFunction.Kinds.Relu => "Relu",
                ActivationFunction.Kinds.Tanh => "Tanh",
                ActivationFunction.Kinds.Sigmoid => "Sigmoid",
                ActivationFunction.Kinds.Softmax => "Softmax",
                _ => null,
            };
            if (op is null) return;
            string o = Next();
            if (op == "Softmax") Node(op, [current], o, ("axis", 1)); else Node(op, [current], o);
            current = o;
        }
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX export writes little-endian raw data.");
        foreach (var layer in model.Layers)
        {
            switch (layer)
            {
                case Flatten:
                {
                    string o = Next(); Node("Flatten", [current], o, ("axis", 1)); current = o; break;
                }
                case Rescaling r:
                {
                    Initializer($"{r.Name}/scale", [], [r.Scale]);
                    string o = Next(); Node("Mul", [current, $"{r.Name}/scale"], o); current = o;
                    if (r.Offset != 0)
                    {
                        Initializer($"{r.Name}/offset", [], [r.Offset]);
                        o = Next(); Node("Add", [current, $"{r.Name}/offset"], o); current = o;
                    }
                    break;
                }
                case Dense d:
                {
                    Initializer(d.Kernel.Name, d.Kernel.Value.Shape, d.Kernel.Value.Span);
                    string o = Next();
                    if (d.Bias is { } b)
                    {
                        Initializer(b.Name, b.Value.Shape, b.Value.Span);
                        Node("Gemm", [current, d.Kernel.Name, b.Name], o);
                    }
                    else Node("MatMul", [current, d.Kernel.Name], o);
                    current = o;
                    Activate(d.Activation);
                    break;
                }
                case Activation a:
                    Activate(a.Function);
                    break;
                default:
                    throw new NotSupportedException($"Layer {layer.GetType().Name} has no ONNX export.");
            }
        }
        Node("Identity", [current], "output");
        graph.String(2, "dendrite");
        graph.Message(11, ValueInfo("input", [.. model.InputShape]));
        graph.Message(12, ValueInfo("output", [.. model.OutputShape]));

        var m = new ProtoWriter();
        m.Varint(1, IrVersion);
        m.String(2, "dendrite");
        m.String(3, typeof(Onnx).Assembly.GetName().Version?.ToString() ?? "0");
        m.Message(7, graph);
        var opset = new ProtoWriter();
        opset.String(1, "");
        opset.Varint(2, Opset);
        m.Message(8, opset);
        return m.ToArray();
    }

    /// <summary>A float tensor value of shape (batch, dims...), the batch named "batch".</summary>
    private static ProtoWriter ValueInfo(string name, int[] dims)
    {
        var shape = new ProtoWriter();
        var batch = new ProtoWriter();
        batch.String(2, "batch");
        shape.Message(1, batch);
        foreach (int d in dims)
        {
            var dim = new ProtoWriter();
            dim.Varint(1, (ulong)d);
            shape.Message(1, dim);
        }
        var tensor = new ProtoWriter();
        tensor.Varint(1, 1);         // elem_type FLOAT
        tensor.Message(2, shape);
        var type = new ProtoWriter();
        type.Message(1, tensor);
        var vi = new ProtoWriter();
        vi.String(1, name);
        vi.Message(2, type);
        return vi;
    }
}

/// <summary>Protocol-buffers wire format, just what the ONNX messages need: varints, strings, bytes, nested messages.</summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _s = new();

    public void Varint(int field, ulong value) { Key(field, 0); Raw(value); }
    public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));
    public void Bytes(int field, ReadOnlySpan<byte> value) { Key(field, 2); Raw((ulong)value.Length); _s.Write(value); }
    public void Message(int field, ProtoWriter inner) => Bytes(field, inner._s.GetBuffer().AsSpan(0, (int)inner._s.Length));
    public byte[] ToArray() => _s.ToArray();

    private void Key(int field, int wireType) => Raw((ulong)(field << 3 | wireType));

    private void Raw(ulong v)
    {
        while (v >= 0x80) { _s.WriteByte((byte)(v | 0x80)); v >>= 7; }
        _s.WriteByte((byte)v);
    }
}
