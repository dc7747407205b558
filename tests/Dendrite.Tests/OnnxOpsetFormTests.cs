using Dendrite.Data;
using Dendrite.Models;
using Dendrite.Serialization.Import;
using Dendrite.Serialization.OnnxProto;
using Google.Protobuf;

namespace Dendrite.Tests;

/// <summary>
/// ONNX forms torch.onnx.export does not write, built here with the same generated classes the exporter uses: Shape's
/// start and end (opset 15), Slice's attributes (before 10) and negative steps, Pad's axes (18), Softmax's default axis
/// before and after opset 13, and a constant too large to compute at load.
/// </summary>
public class OnnxOpsetFormTests
{
    private static AttributeProto Ints(string name, params long[] v) { var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints }; a.Ints.Add(v); return a; }

    private static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };

    private static NodeProto Node(string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = op, Name = output };
        n.Input.Add(inputs);
        n.Output.Add(output);
        n.Attribute.Add(attributes);
        return n;
    }

    private static NodeProto Longs(string output, params long[] v)
    {
        var t = new TensorProto { DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(v.Length);
        t.Int64Data.Add(v);
        return Node("Constant", [], output, new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = t });
    }

    /// <summary>A model of one float input "x" of <paramref name="dims"/> (batch first, symbolic) whose output is "y".</summary>
    private static Sequential Import(int opset, long[] dims, params NodeProto[] nodes)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (long d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        var g = new GraphProto { Name = "test" };
        g.Node.Add(nodes);
        g.Input.Add(new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } });
        g.Output.Add(new ValueInfoProto { Name = "y" });
        var m = new ModelProto { IrVersion = 8, Graph = g };
        m.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return ModelImport.FromOnnx(m.ToByteArray(), "test.onnx", Path.GetTempPath(), null);
    }

    [Fact]
    public void ShapeStartAndEndAndSliceWithANegativeStepFold()
    {
        // Shape(x, start=1) = (2, 3); reversed by Slice(-1, -big, step -1) = (3, 2); with 0 (keep the batch) in front.
        var m = Import(15, [2, 3],
            Node("Shape", ["x"], "s", Int("start", 1)), Longs("st", -1), Longs("en", -1000), Longs("ax", 0), Longs("sp", -1),
            Node("Slice", ["s", "st", "en", "ax", "sp"], "r"), Longs("zero", 0), Node("Concat", ["zero", "r"], "t", Int("axis", 0)),
            Node("Reshape", ["x", "t"], "y"));
        Assert.Equal([3, 2], m.OutputShape);
        // Shape(x, start=-3, end=1) = (batch) alone; with -1 after it, x.view(x.size(0), -1).
        var flat = Import(15, [2, 3], Node("Shape", ["x"], "s", Int("start", -3), Int("end", 1)), Longs("rest", -1),
            Node("Concat", ["s", "rest"], "t", Int("axis", 0)), Node("Reshape", ["x", "t"], "y"));
        Assert.Equal([6], flat.OutputShape);
    }

    [Fact]
    public void SliceAttributesBeforeOpset10()
    {
        var m = Import(9, [2, 3],
            Node("Shape", ["x"], "s"), Node("Slice", ["s"], "h", Ints("starts", 2), Ints("ends", 3)), Node("Slice", ["s"], "w", Ints("starts", 1), Ints("ends", 2), Ints("axes", 0)),
            Longs("zero", 0), Node("Concat", ["zero", "h", "w"], "t", Int("axis", 0)), Node("Reshape", ["x", "t"], "y"));
        Assert.Equal([3, 2], m.OutputShape);
    }

    [Fact]
    public void PadAxesFromOpset18()
    {
        var m = Import(18, [1, 4, 4], Longs("p", 1, 0, 0, 1), Longs("ax", 2, 3), Longs("ax2", -2, -1), Node("Pad", ["x", "p", "", "ax"], "q"),
            Node("Pad", ["q", "p", "", "ax2"], "r"), Node("Flatten", ["r"], "y", Int("axis", 1)));
        Assert.Equal([36], m.OutputShape);   // 4x4 with a row above and a column right, twice: 6x6
        var y = m.Predict(new Tensor(Enumerable.Repeat(1f, 16).ToArray(), 1, 4, 4)).ToArray();
        Assert.Equal(16f, y.Sum());
        Assert.Equal(0f, y[0]);   // the padded top-left corner
    }

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    public void SoftmaxWithoutAnAxisRunsOverTheFeatures(int opset)
    {
        foreach (var (op, expected) in new[] { ("Softmax", ActivationFunction.Softmax), ("LogSoftmax", ActivationFunction.LogSoftmax) })
        {
            var m = Import(opset, [4], Node(op, ["x"], "y"));
            Assert.Equal(expected, Assert.IsType<Layers.Activation>(m.Layers[^1]).Function);
            var y = m.Predict(new Tensor([1f, 2f, 3f, 4f], 1, 4)).ToArray();
            double sum = op == "Softmax" ? y.Sum() : y.Sum(v => Math.Exp(v));
            Assert.Equal(1.0, sum, 5);
        }
        // Over rank 3 data the two opsets mean different things (the last axis; the last two flattened): neither is Dendrite's softmax.
        var e = Assert.Throws<InvalidDataFormatException>(() => Import(opset, [2, 3], Node("Softmax", ["x"], "y")));
        Assert.Contains("rank 3", e.Message);
        Assert.Contains("test.onnx", e.Message);
    }

    [Fact]
    public void AConstantTooLargeToComputeAtLoadIsRefused()
    {
        var e = Assert.Throws<InvalidDataFormatException>(() => Import(13, [4],
            Longs("s", 100_000, 100_000), Node("ConstantOfShape", ["s"], "big"), Node("Relu", ["x"], "y")));
        Assert.Contains("too large to compute at load", e.Message);
        Assert.Contains("ConstantOfShape", e.Message);
    }
}
