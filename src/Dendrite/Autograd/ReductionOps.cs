using System.Numerics.Tensors;

namespace Dendrite;

// Reductions: sums and means over everything or over one axis.
public static partial class Ops
{
    /// <summary>The sum of all elements (a scalar).</summary>
    public static Node Sum(Node x) => new ReduceAllOp(x, mean: false);

    /// <summary>The mean of all elements (a scalar).</summary>
    public static Node Mean(Node x) => new ReduceAllOp(x, mean: true);

    /// <summary>Sum over one axis of a rank-2 tensor: axis 0 sums the rows (giving a row), axis 1 (or -1) each row (giving a column).</summary>
    public static Node Sum(Node x, int axis) => new ReduceAxisOp(x, axis, mean: false);

    /// <summary>Mean over one axis of a rank-2 tensor.</summary>
    public static Node Mean(Node x, int axis) => new ReduceAxisOp(x, axis, mean: true);
}

internal sealed class ReduceAllOp(Node x, bool mean) : Node(mean ? "mean" : "sum", [], x)
{
    protected internal override void Forward()
    {
        Value.Resize([]);
        var s = x.Value.Span;
        float sum = TensorPrimitives.Sum(s);
        Value.Span[0] = mean ? sum / Math.Max(1, s.Length) : sum;
    }

    protected internal override void Backprop()
    {
        var dx = GradToAdd(x);
        float g = Grad.Span[0];
        if (mean) g /= Math.Max(1, dx.Length);
        TensorPrimitives.Add(dx, g, dx);
    }
}

internal sealed class ReduceAxisOp : Node
{
    private readonly Node _x;
    private readonly int _axis;
    private readonly bool _mean;

    public ReduceAxisOp(Node x, int axis, bool mean) : base(mean ? "mean_axis" : "sum_axis", ShapeOf(x, axis), x)
    {
        _x = x; _axis = axis < 0 ? axis + 2 : axis; _mean = mean;
    }

    private static int[] ShapeOf(Node x, int axis)
    {
        if (x.Shape.Length != 2) throw new ArgumentException($"Sum/Mean over an axis needs a rank-2 tensor; received shape {Tensor.ShapeToString(x.Shape)}.");
        int a = axis < 0 ? axis + 2 : axis;
        if (a is not (0 or 1)) throw new ArgumentException($"Invalid value received for argument `axis`. Expected 0, 1 or -1. Received: axis={axis}.");
        return [x.Shape[1 - a]];
    }

    protected internal override void Forward()
    {
        var v = _x.Value;
        int rows = v.Dim(0), cols = v.Dim(1);
        if (_axis == 0)
        {
            Value.Resize([cols]);
            Kernels.ColumnSums(v.Span, rows, cols, Value.Span, false);
            if (_mean) TensorPrimitives.Multiply(Value.Span, 1f / Math.Max(1, rows), Value.Span);
        }
        else
        {
            Value.Resize([rows]);
            var o = Value.Span;
            for (int r = 0; r < rows; r++) o[r] = TensorPrimitives.Sum(v.Span.Slice(r * cols, cols)) / (_mean ? Math.Max(1, cols) : 1);
        }
    }

    protected internal override void Backprop()
    {
        var v = _x.Value;
        int rows = v.Dim(0), cols = v.Dim(1);
        var dx = GradToAdd(_x);
        var g = Grad.Span;
        for (int r = 0; r < rows; r++)
        {
            var dr = dx.Slice(r * cols, cols);
            if (_axis == 0) TensorPrimitives.MultiplyAdd(g, _mean ? 1f / rows : 1f, dr, dr);
            else TensorPrimitives.Add(dr, g[r] / (_mean ? cols : 1), dr);
        }
    }
}
