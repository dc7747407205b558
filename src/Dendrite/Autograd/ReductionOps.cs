using System.Numerics;
using System.Numerics.Tensors;

namespace Dendrite;

// Reductions: sums and means over everything or over one axis, and the index of the largest value along an axis.
public static partial class Ops
{
    /// <summary>The sum of all elements (a scalar).</summary>
    public static Node Sum(Node x) => new ReduceAllOp(x, mean: false);

    /// <summary>The mean of all elements (a scalar).</summary>
    public static Node Mean(Node x) => new ReduceAllOp(x, mean: true);

    /// <summary>
    /// The sum over one axis of a tensor of any rank, that axis removed (tf.reduce_sum(x, axis)): for a batch of rows,
    /// axis 0 sums the rows (giving a row) and axis 1 (or -1) each row (giving one value per row). Negative axes count
    /// from the end.
    /// </summary>
    public static Node Sum(Node x, int axis) => new ReduceAxisOp(x, axis, mean: false);

    /// <summary>The mean over one axis of a tensor of any rank, that axis removed (tf.reduce_mean(x, axis)).</summary>
    public static Node Mean(Node x, int axis) => new ReduceAxisOp(x, axis, mean: true);

    /// <summary>
    /// The index of the largest value along <paramref name="axis"/>, that axis removed (tf.argmax): for a batch of
    /// scores, <c>ArgMax(logits, 1)</c> is each row's predicted class. Indices are floats, as every Dendrite tensor
    /// holds; ties give the first index, and a NaN counts as larger than any number. No gradient flows through it.
    /// </summary>
    public static Node ArgMax(Node x, int axis) => new ArgMaxOp(x, axis);

    /// <summary>The axis in [0, rank) that <paramref name="axis"/> names (negative counts from the end), or a Keras-style error.</summary>
    internal static int ResolveAxis(int axis, int rank, string op)
    {
        int a = axis < 0 ? axis + rank : axis;
        if (rank == 0) throw new ArgumentException($"{op} over an axis needs a tensor with at least one dimension; received a scalar.");
        if (a < 0 || a >= rank) throw new ArgumentException($"Invalid value received for argument `axis` of {op}. Expected an axis in [{-rank}, {rank - 1}] for a tensor of rank {rank}. Received: axis={axis}.");
        return a;
    }

    /// <summary>(outer, n, inner): the elements before <paramref name="axis"/>, along it, and after it, in <paramref name="shape"/>.</summary>
    internal static (int Outer, int N, int Inner) AroundAxis(ReadOnlySpan<int> shape, int axis) =>
        (Tensor.ProductOf(shape[..axis]), shape[axis], Tensor.ProductOf(shape[(axis + 1)..]));

    internal static int[] Without(int[] shape, int axis) => [.. shape[..axis], .. shape[(axis + 1)..]];
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

/// <summary>Sum or mean over one axis, seeing the input as (outer, n, inner) with n along the axis.</summary>
internal sealed class ReduceAxisOp : Node
{
    private readonly Node _x;
    private readonly int _axis;
    private readonly bool _mean;
    private int[] _outShape = [];

    public ReduceAxisOp(Node x, int axis, bool mean)
        : base(mean ? "mean_axis" : "sum_axis", Ops.Without(x.Shape, Ops.ResolveAxis(axis, x.Shape.Length, mean ? "Mean" : "Sum")), x)
    {
        _x = x; _axis = Ops.ResolveAxis(axis, x.Shape.Length, "Sum"); _mean = mean;
    }

    protected internal override void Forward()
    {
        var v = _x.Value;
        var shape = v.ShapeSpan;
        var (outer, n, inner) = Ops.AroundAxis(shape, _axis);
        if (_outShape.Length != shape.Length - 1) _outShape = new int[shape.Length - 1];
        for (int i = 0, j = 0; i < shape.Length; i++) if (i != _axis) _outShape[j++] = shape[i];
        Value.Resize(_outShape);
        var o = Value.Span; var s = v.Span;
        if (inner == 1)
        {
            for (int r = 0; r < outer; r++) o[r] = TensorPrimitives.Sum(s.Slice(r * n, n)) / (_mean ? Math.Max(1, n) : 1);
            return;
        }
        for (int b = 0; b < outer; b++)
        {
            var ob = o.Slice(b * inner, inner);
            Kernels.ColumnSums(s.Slice(b * n * inner, n * inner), n, inner, ob, false);
            if (_mean) TensorPrimitives.Multiply(ob, 1f / Math.Max(1, n), ob);
        }
    }

    protected internal override void Backprop()
    {
        var (outer, n, inner) = Ops.AroundAxis(_x.Value.ShapeSpan, _axis);
        var dx = GradToAdd(_x);
        var g = Grad.Span;
        for (int b = 0; b < outer; b++)
        {
            if (inner == 1)
            {
                var dr = dx.Slice(b * n, n);
                TensorPrimitives.Add(dr, g[b] / (_mean ? n : 1), dr);
                continue;
            }
            var gb = g.Slice(b * inner, inner);
            for (int i = 0; i < n; i++)
            {
                var dr = dx.Slice((b * n + i) * inner, inner);
                TensorPrimitives.MultiplyAdd(gb, _mean ? 1f / n : 1f, dr, dr);
            }
        }
    }
}

/// <summary>The index of the largest value along one axis; along the last axis one IndexOfMax per row, otherwise a running maximum across the rows of each block.</summary>
internal sealed class ArgMaxOp : Node
{
    private readonly Node _x;
    private readonly int _axis;
    private int[] _outShape = [];
    private float[] _best = [];

    public ArgMaxOp(Node x, int axis) : base("argmax", Ops.Without(x.Shape, Ops.ResolveAxis(axis, x.Shape.Length, "ArgMax")), x)
    {
        _x = x;
        _axis = Ops.ResolveAxis(axis, x.Shape.Length, "ArgMax");
        RequiresGrad = false;
    }

    protected internal override void Forward()
    {
        var v = _x.Value;
        var shape = v.ShapeSpan;
        var (outer, n, inner) = Ops.AroundAxis(shape, _axis);
        if (n == 0) throw new InvalidOperationException($"`{Name}`: ArgMax along an axis of size 0 (shape {Tensor.ShapeToString(shape)}) has no answer.");
        if (_outShape.Length != shape.Length - 1) _outShape = new int[shape.Length - 1];
        for (int i = 0, j = 0; i < shape.Length; i++) if (i != _axis) _outShape[j++] = shape[i];
        Value.Resize(_outShape);
        var o = Value.Span; var s = v.Span;
        if (inner == 1)
        {
            for (int r = 0; r < outer; r++) o[r] = TensorPrimitives.IndexOfMax(s.Slice(r * n, n));
            return;
        }
        if (_best.Length < inner) _best = new float[inner];
        var best = _best.AsSpan(0, inner);
        for (int b = 0; b < outer; b++)
        {
            var block = s.Slice(b * n * inner, n * inner);
            var idx = o.Slice(b * inner, inner);
            block[..inner].CopyTo(best);
            idx.Clear();
            for (int i = 1; i < n; i++) RunningMax(block.Slice(i * inner, inner), i, best, idx);
        }
    }

    /// <summary>Where <paramref name="row"/> beats <paramref name="best"/> (strictly, or as the first NaN), take its value and index <paramref name="i"/>.</summary>
    private static void RunningMax(ReadOnlySpan<float> row, int i, Span<float> best, Span<float> idx)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vi = new Vector<float>(i);
            for (; j <= row.Length - Vector<float>.Count; j += Vector<float>.Count)
            {
                var r = new Vector<float>(row[j..]); var m = new Vector<float>(best[j..]);
                var take = Vector.GreaterThan(r, m).As<int, float>() | (Vector.IsNaN(r) & ~Vector.IsNaN(m));
                Vector.ConditionalSelect(take, r, m).CopyTo(best[j..]);
                Vector.ConditionalSelect(take, vi, new Vector<float>(idx[j..])).CopyTo(idx[j..]);
            }
        }
        for (; j < row.Length; j++)
            if (row[j] > best[j] || (float.IsNaN(row[j]) && !float.IsNaN(best[j]))) { best[j] = row[j]; idx[j] = i; }
    }

    protected internal override void Backprop() { }
}
