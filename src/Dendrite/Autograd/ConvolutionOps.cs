using System.Numerics.Tensors;

namespace Dendrite;

/// <summary>How a sliding window treats the border, as Keras: "valid" (no padding) or "same" (zero padding).</summary>
public enum Padding
{
    /// <summary>No padding: the window stays inside the input; out = floor((in - window) / stride) + 1.</summary>
    Valid,
    /// <summary>Zero padding so that out = ceil(in / stride); the odd padding pixel goes at the bottom/right (as TensorFlow).</summary>
    Same,
}

/// <summary>A height and a width (kernel size, strides, pool size): an int means both, as in Keras.</summary>
public readonly record struct Size2D(int Height, int Width)
{
    public static implicit operator Size2D(int size) => new(size, size);
    public static implicit operator Size2D((int Height, int Width) size) => new(size.Height, size.Width);

    public override string ToString() => $"({Height}, {Width})";
}

// Convolution over channels-last (NHWC) batches, lowered to the GEMM (im2col).
public static partial class Ops
{
    /// <summary>
    /// f(conv2d(x, kernel) + bias) over channels-last items, as Keras's Conv2D: x is (batch, height, width, channels),
    /// kernel (kernelHeight, kernelWidth, channels, filters), bias (filters,). The result is
    /// (batch, outHeight, outWidth, filters). Bias and an elementwise activation are fused into the op.
    /// </summary>
    public static Node Conv2D(Node x, Node kernel, Node? bias = null, Size2D? strides = null, Padding padding = Padding.Valid, ActivationFunction? activation = null)
        => new Conv2DOp(x, kernel, bias, strides ?? new Size2D(1, 1), padding, activation ?? ActivationFunction.Linear);
}

/// <summary>
/// The geometry of a sliding window over NHWC images: input (H, W, C), window (KH, KW), strides, padding, and the
/// output size it gives. Shared by convolution and pooling.
/// </summary>
internal readonly record struct Window2D(int H, int W, int C, int KH, int KW, int SH, int SW, int PadTop, int PadLeft, int OH, int OW)
{
    /// <summary>Values in one window: the im2col row length.</summary>
    public int K => KH * KW * C;

    public bool IsPointwise => KH == 1 && KW == 1 && SH == 1 && SW == 1 && PadTop == 0 && PadLeft == 0;

    /// <summary>The window geometry, or an ArgumentException naming <paramref name="what"/> when the window does not fit.</summary>
    public static Window2D Create(int h, int w, int c, Size2D window, Size2D strides, Padding padding, string what)
    {
        if (window.Height <= 0 || window.Width <= 0) throw new ArgumentException($"{what}: the window size must be positive; received {window}.");
        if (strides.Height <= 0 || strides.Width <= 0) throw new ArgumentException($"{what}: strides must be positive; received {strides}.");
        int oh, ow, padTop = 0, padLeft = 0;
        if (padding == Padding.Valid)
        {
            if (h < window.Height || w < window.Width)
                throw new ArgumentException($"{what}: a {window.Height}×{window.Width} window does not fit in {h}×{w} inputs with padding \"valid\". Use padding \"same\" or a smaller window.");
            oh = (h - window.Height) / strides.Height + 1;
            ow = (w - window.Width) / strides.Width + 1;
        }
        else
        {
            oh = (h + strides.Height - 1) / strides.Height;
            ow = (w + strides.Width - 1) / strides.Width;
            padTop = Math.Max((oh - 1) * strides.Height + window.Height - h, 0) / 2;
            padLeft = Math.Max((ow - 1) * strides.Width + window.Width - w, 0) / 2;
        }
        return new Window2D(h, w, c, window.Height, window.Width, strides.Height, strides.Width, padTop, padLeft, oh, ow);
    }

    /// <summary>Input rows ih of output row oh that lie inside the image: kh in [lo, hi).</summary>
    public (int lo, int hi) RowsInside(int oh)
    {
        int ih0 = oh * SH - PadTop;
        return (Math.Max(0, -ih0), Math.Min(KH, H - ih0));
    }

    public (int lo, int hi) ColumnsInside(int ow)
    {
        int iw0 = ow * SW - PadLeft;
        return (Math.Max(0, -iw0), Math.Min(KW, W - iw0));
    }
}

/// <summary>
/// Conv2D over NHWC: each output pixel's window, laid out as a row of KH·KW·C values (im2col), times the kernel
/// seen as a (KH·KW·C)×F matrix — Keras's kernel layout is already that matrix, and the product's rows are the
/// output in NHWC order, so nothing is transposed. The im2col rows are built a chunk of whole images at a time into
/// one reused buffer that stays in cache, so memory does not grow with the batch. Backward: dX by dCols = dZ·Wᵀ and
/// a scatter-add back into the images (col2im), then dW = Σ colsᵀ·dZ; the weight pass comes last so that an
/// optimizer may fold its update into it (plain SGD: W += -lr·colsᵀ·dZ, chunk by chunk) after dX has used the old W.
/// </summary>
internal sealed unsafe class Conv2DOp : Node
{
    /// <summary>Floats in the im2col buffer: a chunk of images is sized to fit, so that it stays in cache while the GEMM reads it.</summary>
    private const int ColumnBudget = 1 << 20;

    private readonly Node _x, _w;
    private readonly Node? _b;
    private readonly Size2D _strides;
    private readonly Padding _padding;
    private readonly ActivationFunction _f;
    private readonly Tensor _cols = new(0);
    private readonly Im2ColWork _im2col = new();
    private readonly Col2ImWork _col2im = new();
    private Window2D _g;

    public Conv2DOp(Node x, Node w, Node? b, Size2D strides, Padding padding, ActivationFunction f)
        : base("conv2d", ShapeOf(x.Shape, w.Shape, strides, padding), b is null ? [x, w] : [x, w, b])
    {
        if (!f.IsElementwise) throw new ArgumentException($"Ops.Conv2D fuses elementwise activations only; apply {f.Name} as its own op.");
        if (b is not null && (b.Shape.Length != 1 || b.Shape[0] != w.Shape[3]))
            throw new ArgumentException($"Conv2D bias must have shape ({w.Shape[3]},); received {Tensor.ShapeToString(b.Shape)}.");
        _x = x; _w = w; _b = b; _strides = strides; _padding = padding; _f = f;
    }

    internal ActivationFunction Activation => _f;

    internal static int[] ShapeOf(int[] x, int[] w, Size2D strides, Padding padding)
    {
        if (x.Length != 4)
            throw new ArgumentException($"Conv2D takes batches of images of shape (batch, height, width, channels); received {Tensor.ShapeToString(x)}." +
                (x.Length == 3 ? $" For single-channel images, reshape them to (batch, {x[1]}, {x[2]}, 1) first (a Reshape layer)." : ""));
        if (w.Length != 4) throw new ArgumentException($"Conv2D kernel must have shape (kernelHeight, kernelWidth, channels, filters); received {Tensor.ShapeToString(w)}.");
        if (x[3] != w[2]) throw new ArgumentException($"Conv2D kernel {Tensor.ShapeToString(w)} expects {w[2]} input channels; the input has {x[3]}.");
        var g = Window2D.Create(x[1], x[2], x[3], new Size2D(w[0], w[1]), strides, padding, "Conv2D");
        return [x[0], g.OH, g.OW, w[3]];
    }

    private Window2D Geometry(Tensor x, Tensor w)
    {
        if (x.Rank != 4) throw new InvalidOperationException($"Conv2D `{Name}`: input of shape {Tensor.ShapeToString(x.ShapeSpan)} is not (batch, height, width, channels).");
        if (x.Dim(3) != w.Dim(2)) throw new InvalidOperationException($"Conv2D `{Name}`: input has {x.Dim(3)} channels, the kernel expects {w.Dim(2)}.");
        if (_g.H != x.Dim(1) || _g.W != x.Dim(2) || _g.C != x.Dim(3) || _g.KH != w.Dim(0) || _g.KW != w.Dim(1))
            _g = Window2D.Create(x.Dim(1), x.Dim(2), x.Dim(3), new Size2D(w.Dim(0), w.Dim(1)), _strides, _padding, $"Conv2D `{Name}`");
        return _g;
    }

    /// <summary>Images per im2col chunk.</summary>
    private static int ChunkImages(Window2D g, int n) => Math.Clamp(ColumnBudget / Math.Max(1, g.OH * g.OW * g.K), 1, Math.Max(1, n));

    protected internal override void Forward()
    {
        Tensor x = _x.Value, w = _w.Value;
        var g = Geometry(x, w);
        int n = x.Dim(0), f = w.Dim(3), k = g.K, perImage = g.OH * g.OW;
        Value.Resize([n, g.OH, g.OW, f]);
        var y = Value.Span;
        if (g.IsPointwise)
        {
            Gemm.Multiply(false, false, n * perImage, f, k, x.Span, k, w.Span, f, y, f);
            Epilogue(y, n * perImage, f);
            return;
        }
        int chunk = ChunkImages(g, n);
        _cols.Resize(chunk * perImage, k);
        for (int i0 = 0; i0 < n; i0 += chunk)
        {
            int images = Math.Min(chunk, n - i0), rows = images * perImage;
            Im2Col(x, g, i0, images);
            var yc = y.Slice(i0 * perImage * f, rows * f);
            Gemm.Multiply(false, false, rows, f, k, _cols.Span, k, w.Span, f, yc, f);
            Epilogue(yc, rows, f);
        }
    }

    private void Epilogue(Span<float> y, int rows, int f)
    {
        if (_b is not null) Kernels.BiasActivation(y, rows, f, _b.Value.Span, _f);
        else _f.ApplyInPlace(y);
    }

    protected internal override void Backprop()
    {
        Tensor x = _x.Value, w = _w.Value;
        var g = _g;
        int n = x.Dim(0), f = w.Dim(3), k = g.K, perImage = g.OH * g.OW;
        var dz = Grad.Span;                       // ours alone: becomes dL/dz in place
        _f.MultiplyByDerivative(Value.Span, dz);
        int chunk = ChunkImages(g, n);
        if (_x.RequiresGrad)                      // first, while W still holds the forward pass's weights
        {
            var dx = GradOf(_x, out bool acc);
            if (g.IsPointwise) Gemm.Multiply(false, true, n * perImage, k, f, dz, f, w.Span, f, dx, k, acc);
            else
            {
                if (!acc) dx.Clear();
                _cols.Resize(chunk * perImage, k);
                for (int i0 = 0; i0 < n; i0 += chunk)
                {
                    int images = Math.Min(chunk, n - i0), rows = images * perImage;
                    Gemm.Multiply(false, true, rows, k, f, dz.Slice(i0 * perImage * f, rows * f), f, w.Span, f, _cols.Span, k);   // dCols = dZ·Wᵀ
                    Col2Im(_x.Grad, g, i0, images);
                }
            }
        }
        if (_b is not null && _b.RequiresGrad)
        {
            if (Optimizers.Optimizer.FusedUpdate(_b, out float fb))
            {
                var bs = _b.Value.Span;
                for (int r = 0; r < n * perImage; r++) TensorPrimitives.MultiplyAdd(dz.Slice(r * f, f), fb, bs, bs);
            }
            else
            {
                var db = GradOf(_b, out bool acc);
                Kernels.ColumnSums(dz, n * perImage, f, db, acc);
            }
        }
        if (_w.RequiresGrad)
        {
            bool fused = Optimizers.Optimizer.FusedUpdate(_w, out float fw);
            Span<float> target;
            bool acc;
            if (fused) { target = w.Span; acc = true; }
            else target = GradOf(_w, out acc);
            float alpha = fused ? fw : 1f;
            if (g.IsPointwise) Gemm.Multiply(true, false, k, f, n * perImage, x.Span, k, dz, f, target, f, acc, alpha);
            else
            {
                _cols.Resize(chunk * perImage, k);
                for (int i0 = 0; i0 < n; i0 += chunk)
                {
                    int images = Math.Min(chunk, n - i0), rows = images * perImage;
                    Im2Col(x, g, i0, images);
                    Gemm.Multiply(true, false, k, f, rows, _cols.Span, k, dz.Slice(i0 * perImage * f, rows * f), f, target, f, acc || i0 > 0, alpha);   // dW (+)= colsᵀ·dZ
                }
            }
        }
    }

    private void Im2Col(Tensor x, Window2D g, int firstImage, int images)
    {
        fixed (float* src = x.Span, dst = _cols.Span)
        {
            _im2col.Set(src, dst, g, firstImage, images);
            Parallelism.RunOrInline(_im2col, Math.Min(Parallelism.MaxThreads, images * g.OH));
        }
    }

    private void Col2Im(Tensor dx, Window2D g, int firstImage, int images)
    {
        fixed (float* dst = dx.Span, src = _cols.Span)
        {
            _col2im.Set(src, dst, g, firstImage, images);
            Parallelism.RunOrInline(_col2im, Math.Min(Parallelism.MaxThreads, images));
        }
    }

    /// <summary>Writes the windows of images [first, first+images) as rows of (kh, kw, c) values, zeros where the window passes the border.</summary>
    private sealed class Im2ColWork : IParallelWork
    {
        private float* _x, _cols;
        private Window2D _g;
        private int _first, _images;

        public void Set(float* x, float* cols, Window2D g, int first, int images) { _x = x; _cols = cols; _g = g; _first = first; _images = images; }

        public void Execute(int part, int parts)
        {
            var g = _g;
            int lines = _images * g.OH;                           // one output row of one image per unit of work
            int lo = (int)((long)lines * part / parts), hi = (int)((long)lines * (part + 1) / parts);
            int k = g.K, rowSpan = g.KW * g.C;
            for (int line = lo; line < hi; line++)
            {
                int img = line / g.OH, oh = line % g.OH;
                float* image = _x + (long)(_first + img) * g.H * g.W * g.C;
                float* row = _cols + (long)line * g.OW * k;
                int ih0 = oh * g.SH - g.PadTop;
                var (khLo, khHi) = g.RowsInside(oh);
                for (int ow = 0; ow < g.OW; ow++, row += k)
                {
                    int iw0 = ow * g.SW - g.PadLeft;
                    var (kwLo, kwHi) = g.ColumnsInside(ow);
                    for (int kh = 0; kh < g.KH; kh++)
                    {
                        float* d = row + kh * rowSpan;
                        if (kh < khLo || kh >= khHi) { new Span<float>(d, rowSpan).Clear(); continue; }
                        float* s = image + ((long)(ih0 + kh) * g.W + iw0) * g.C;
                        if (kwLo == 0 && kwHi == g.KW) { Copy(s, d, rowSpan); continue; }
                        if (kwLo > 0) new Span<float>(d, kwLo * g.C).Clear();
                        if (kwHi > kwLo) Copy(s + kwLo * g.C, d + kwLo * g.C, (kwHi - kwLo) * g.C);
                        if (kwHi < g.KW) new Span<float>(d + kwHi * g.C, (g.KW - kwHi) * g.C).Clear();
                    }
                }
            }
        }

        private static void Copy(float* s, float* d, int n)
        {
            if (n <= 8) { for (int i = 0; i < n; i++) d[i] = s[i]; return; }
            new ReadOnlySpan<float>(s, n).CopyTo(new Span<float>(d, n));
        }
    }

    /// <summary>Adds each im2col row's values back onto the pixels its window covers. Parts own whole images, so no two write the same pixel.</summary>
    private sealed class Col2ImWork : IParallelWork
    {
        private float* _cols, _dx;
        private Window2D _g;
        private int _first, _images;

        public void Set(float* cols, float* dx, Window2D g, int first, int images) { _cols = cols; _dx = dx; _g = g; _first = first; _images = images; }

        public void Execute(int part, int parts)
        {
            var g = _g;
            int lo = (int)((long)_images * part / parts), hi = (int)((long)_images * (part + 1) / parts);
            int k = g.K, rowSpan = g.KW * g.C;
            for (int img = lo; img < hi; img++)
            {
                float* image = _dx + (long)(_first + img) * g.H * g.W * g.C;
                float* row = _cols + (long)img * g.OH * g.OW * k;
                for (int oh = 0; oh < g.OH; oh++)
                {
                    int ih0 = oh * g.SH - g.PadTop;
                    var (khLo, khHi) = g.RowsInside(oh);
                    for (int ow = 0; ow < g.OW; ow++, row += k)
                    {
                        int iw0 = ow * g.SW - g.PadLeft;
                        var (kwLo, kwHi) = g.ColumnsInside(ow);
                        if (kwHi <= kwLo) continue;
                        for (int kh = khLo; kh < khHi; kh++)
                        {
                            float* d = image + ((long)(ih0 + kh) * g.W + iw0 + kwLo) * g.C;
                            float* s = row + kh * rowSpan + kwLo * g.C;
                            int len = (kwHi - kwLo) * g.C;
                            var dd = new Span<float>(d, len);
                            TensorPrimitives.Add(dd, new ReadOnlySpan<float>(s, len), dd);
                        }
                    }
                }
            }
        }
    }
}
