using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Dendrite;

// Pooling over channels-last (NHWC) batches.
public static partial class Ops
{
    /// <summary>
    /// The largest value in each window, per channel, as Keras's MaxPooling2D: x is (batch, height, width, channels);
    /// strides default to the pool size. With padding "same", positions outside the image are ignored.
    /// </summary>
    public static Node MaxPool2D(Node x, Size2D poolSize, Size2D? strides = null, Padding padding = Padding.Valid)
        => new Pool2DOp(x, poolSize, strides ?? poolSize, padding, max: true);

    /// <summary>The mean of each window, per channel, as Keras's AveragePooling2D; with padding "same" the mean is over the positions inside the image.</summary>
    public static Node AveragePool2D(Node x, Size2D poolSize, Size2D? strides = null, Padding padding = Padding.Valid)
        => new Pool2DOp(x, poolSize, strides ?? poolSize, padding, max: false);

    /// <summary>The mean over height and width of each channel: (batch, height, width, channels) → (batch, channels).</summary>
    public static Node GlobalAveragePool2D(Node x) => new GlobalAveragePool2DOp(x);
}

/// <summary>
/// Max or average pooling over NHWC windows, vectorised across channels. Max pooling remembers, for each output
/// value, the offset of the input it came from (the first of equal values), so its backward pass routes each
/// gradient to that one input. Parts own whole images, so both passes split across threads without sharing outputs.
/// </summary>
internal sealed unsafe class Pool2DOp : Node, IParallelWork
{
    private readonly Node _x;
    private readonly Size2D _pool, _strides;
    private readonly Padding _padding;
    private readonly bool _max;
    private int[] _argmax = [];
    private Window2D _g;
    private bool _backward;

    public Pool2DOp(Node x, Size2D pool, Size2D strides, Padding padding, bool max)
        : base(max ? "max_pool2d" : "average_pool2d", ShapeOf(x.Shape, pool, strides, padding, max), x)
    {
        _x = x; _pool = pool; _strides = strides; _padding = padding; _max = max;
    }

    private static int[] ShapeOf(int[] x, Size2D pool, Size2D strides, Padding padding, bool max)
    {
        string what = max ? "MaxPooling2D" : "AveragePooling2D";
        if (x.Length != 4) throw new ArgumentException($"{what} takes batches of images of shape (batch, height, width, channels); received {Tensor.ShapeToString(x)}.");
        var g = Window2D.Create(x[1], x[2], x[3], pool, strides, padding, what);
        return [x[0], g.OH, g.OW, x[3]];
    }

    protected internal override void Forward()
    {
        var x = _x.Value;
        if (x.Rank != 4) throw new InvalidOperationException($"`{Name}`: input of shape {Tensor.ShapeToString(x.ShapeSpan)} is not (batch, height, width, channels).");
        if (_g.H != x.Dim(1) || _g.W != x.Dim(2) || _g.C != x.Dim(3))
            _g = Window2D.Create(x.Dim(1), x.Dim(2), x.Dim(3), _pool, _strides, _padding, Name);
        int n = x.Dim(0);
        Value.Resize([n, _g.OH, _g.OW, _g.C]);
        if (_max && _argmax.Length < Value.Length) _argmax = new int[Value.Length];
        _backward = false;
        Parallelism.RunOrInline(this, Math.Min(Parallelism.MaxThreads, n));
    }

    protected internal override void Backprop()
    {
        GradToAdd(_x);
        _backward = true;
        Parallelism.RunOrInline(this, Math.Min(Parallelism.MaxThreads, _x.Value.Dim(0)));
    }

    public void Execute(int part, int parts)
    {
        int n = _x.Value.Dim(0);
        int lo = (int)((long)n * part / parts), hi = (int)((long)n * (part + 1) / parts);
        fixed (float* x = _x.Value.Span, y = Value.Span)
        fixed (int* arg = _argmax)
        {
            if (!_backward)
            {
                for (int i = lo; i < hi; i++)
                    if (_max) MaxForward(x, y, arg, i); else AverageForward(x, y, i);
                return;
            }
            fixed (float* g = Grad.Span, dx = _x.Grad.Span)
                for (int i = lo; i < hi; i++)
                    if (_max) MaxBackward(g, dx, arg, i); else AverageBackward(g, dx, i);
        }
    }

    private void MaxForward(float* x, float* y, int* arg, int image)
    {
        var g = _g;
        int c = g.C, vw = Vector<float>.Count;
        long inBase = (long)image * g.H * g.W * c;
        long o = (long)image * g.OH * g.OW * c;
        Vector<int> lanes = Iota();
        for (int oh = 0; oh < g.OH; oh++)
        {
            var (khLo, khHi) = g.RowsInside(oh);
            int ih0 = oh * g.SH - g.PadTop;
            for (int ow = 0; ow < g.OW; ow++, o += c)
            {
                var (kwLo, kwHi) = g.ColumnsInside(ow);
                int iw0 = ow * g.SW - g.PadLeft;
                int first = (int)(inBase + ((long)(ih0 + khLo) * g.W + iw0 + kwLo) * c);
                int ch = 0;
                for (; ch <= c - vw; ch += vw)
                {
                    var best = Unsafe.ReadUnaligned<Vector<float>>(x + first + ch);
                    var bestAt = new Vector<int>(first + ch) + lanes;
                    for (int kh = khLo; kh < khHi; kh++)
                        for (int kw = kwLo; kw < kwHi; kw++)
                        {
                            int at = (int)(inBase + ((long)(ih0 + kh) * g.W + iw0 + kw) * c) + ch;
                            var v = Unsafe.ReadUnaligned<Vector<float>>(x + at);
                            var greater = Vector.GreaterThan(v, best);
                            best = Vector.ConditionalSelect(greater, v, best);
                            bestAt = Vector.ConditionalSelect(greater, new Vector<int>(at) + lanes, bestAt);
                        }
                    Unsafe.WriteUnaligned(y + o + ch, best);
                    Unsafe.WriteUnaligned(arg + o + ch, bestAt);
                }
                for (; ch < c; ch++)
                {
                    int bestAt = first + ch;
                    float best = x[bestAt];
                    for (int kh = khLo; kh < khHi; kh++)
                        for (int kw = kwLo; kw < kwHi; kw++)
                        {
                            int at = (int)(inBase + ((long)(ih0 + kh) * g.W + iw0 + kw) * c) + ch;
                            if (x[at] > best) { best = x[at]; bestAt = at; }
                        }
                    y[o + ch] = best;
                    arg[o + ch] = bestAt;
                }
            }
        }
    }

    private void MaxBackward(float* g, float* dx, int* arg, int image)
    {
        long per = (long)_g.OH * _g.OW * _g.C, o = image * per;
        for (long i = o; i < o + per; i++) dx[arg[i]] += g[i];
    }

    private void AverageForward(float* x, float* y, int image)
    {
        var g = _g;
        int c = g.C;
        long inBase = (long)image * g.H * g.W * c;
        long o = (long)image * g.OH * g.OW * c;
        for (int oh = 0; oh < g.OH; oh++)
        {
            var (khLo, khHi) = g.RowsInside(oh);
            int ih0 = oh * g.SH - g.PadTop;
            for (int ow = 0; ow < g.OW; ow++, o += c)
            {
                var (kwLo, kwHi) = g.ColumnsInside(ow);
                int iw0 = ow * g.SW - g.PadLeft;
                var dst = new Span<float>(y + o, c);
                dst.Clear();
                for (int kh = khLo; kh < khHi; kh++)
                    for (int kw = kwLo; kw < kwHi; kw++)
                        TensorPrimitives.Add(dst, new ReadOnlySpan<float>(x + inBase + ((long)(ih0 + kh) * g.W + iw0 + kw) * c, c), dst);
                TensorPrimitives.Multiply(dst, 1f / ((khHi - khLo) * (kwHi - kwLo)), dst);
            }
        }
    }

    private void AverageBackward(float* gy, float* dx, int image)
    {
        var g = _g;
        int c = g.C;
        long inBase = (long)image * g.H * g.W * c;
        long o = (long)image * g.OH * g.OW * c;
        for (int oh = 0; oh < g.OH; oh++)
        {
            var (khLo, khHi) = g.RowsInside(oh);
            int ih0 = oh * g.SH - g.PadTop;
            for (int ow = 0; ow < g.OW; ow++, o += c)
            {
                var (kwLo, kwHi) = g.ColumnsInside(ow);
                int iw0 = ow * g.SW - g.PadLeft;
                float share = 1f / ((khHi - khLo) * (kwHi - kwLo));
                var src = new ReadOnlySpan<float>(gy + o, c);
                for (int kh = khLo; kh < khHi; kh++)
                    for (int kw = kwLo; kw < kwHi; kw++)
                    {
                        var d = new Span<float>(dx + inBase + ((long)(ih0 + kh) * g.W + iw0 + kw) * c, c);
                        TensorPrimitives.MultiplyAdd(src, share, d, d);
                    }
            }
        }
    }

    private static Vector<int> Iota()
    {
        Span<int> v = stackalloc int[Vector<int>.Count];
        for (int i = 0; i < v.Length; i++) v[i] = i;
        return new Vector<int>(v);
    }
}

/// <summary>Mean over each image's pixels, per channel: y[n, c] = Σ_p x[n, p, c] / (H·W); dx[n, p, c] = dy[n, c] / (H·W).</summary>
internal sealed class GlobalAveragePool2DOp : Node
{
    private readonly Node _x;

    public GlobalAveragePool2DOp(Node x) : base("global_average_pool2d", ShapeOf(x.Shape), x) => _x = x;

    private static int[] ShapeOf(int[] x)
    {
        if (x.Length != 4) throw new ArgumentException($"GlobalAveragePooling2D takes batches of images of shape (batch, height, width, channels); received {Tensor.ShapeToString(x)}.");
        return [x[0], x[3]];
    }

    protected internal override void Forward()
    {
        var x = _x.Value;
        int n = x.Dim(0), pixels = x.Dim(1) * x.Dim(2), c = x.Dim(3);
        Value.Resize(n, c);
        var xs = x.Span; var y = Value.Span;
        for (int i = 0; i < n; i++)
        {
            var yr = y.Slice(i * c, c);
            Kernels.ColumnSums(xs.Slice(i * pixels * c, pixels * c), pixels, c, yr, false);
            TensorPrimitives.Multiply(yr, 1f / pixels, yr);
        }
    }

    protected internal override void Backprop()
    {
        var x = _x.Value;
        int n = x.Dim(0), pixels = x.Dim(1) * x.Dim(2), c = x.Dim(3);
        var dx = GradToAdd(_x);
        var g = Grad.Span;
        for (int i = 0; i < n; i++)
        {
            var gr = g.Slice(i * c, c);
            for (int p = 0; p < pixels; p++)
            {
                var d = dx.Slice((i * pixels + p) * c, c);
                TensorPrimitives.MultiplyAdd(gr, 1f / pixels, d, d);
            }
        }
    }
}
