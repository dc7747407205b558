namespace Dendrite;

/// <summary>How points that fall outside the input are filled (Keras's fill_mode), shown on a row abcd.</summary>
public enum FillMode
{
    /// <summary>Mirrored about the edge of the last pixel: (d c b a | a b c d | d c b a).</summary>
    Reflect,
    /// <summary>A constant, the fill value: (k k k k | a b c d | k k k k).</summary>
    Constant,
    /// <summary>The nearest pixel: (a a a a | a b c d | d d d d).</summary>
    Nearest,
    /// <summary>Wrapped around to the opposite edge: (a b c d | a b c d | a b c d).</summary>
    Wrap,
}

/// <summary>How an image is sampled between pixels (Keras's interpolation).</summary>
public enum Interpolation
{
    /// <summary>The weighted mean of the four nearest pixels.</summary>
    Bilinear,
    /// <summary>The nearest pixel (halves round to even).</summary>
    Nearest,
}

/// <summary>
/// The range a random factor is drawn from, uniformly, as Keras's augmentation layers take it: a single value f means
/// (-|f|, |f|); a pair is (lower, upper), in either order (Keras sorts it).
/// </summary>
public readonly record struct FactorRange
{
    public FactorRange(float lower, float upper)
    {
        if (!float.IsFinite(lower) || !float.IsFinite(upper))
            throw new ArgumentOutOfRangeException(nameof(lower), (lower, upper), $"Invalid factor ({lower}, {upper}): expected finite numbers.");
        Lower = Math.Min(lower, upper);
        Upper = Math.Max(lower, upper);
    }

    public float Lower { get; }
    public float Upper { get; }

    public static implicit operator FactorRange(float f) => new(-Math.Abs(f), Math.Abs(f));
    public static implicit operator FactorRange(double f) => (float)f;
    public static implicit operator FactorRange((float Lower, float Upper) r) => new(r.Lower, r.Upper);
    public static implicit operator FactorRange((double Lower, double Upper) r) => new((float)r.Lower, (float)r.Upper);

    /// <summary>The value at <paramref name="u"/> in [0, 1) along the range; exactly Lower when the range is one point.</summary>
    internal double At(double u) => Lower + ((double)Upper - Lower) * u;

    /// <summary>Throws, naming <paramref name="argument"/> as Keras does, unless both bounds lie in [-1, 1].</summary>
    internal void CheckWithinOne(string argument)
    {
        if (Lower < -1 || Upper > 1)
            throw new ArgumentOutOfRangeException(argument, this, $"Invalid value received for argument `{argument}`. Expected values between -1 and 1. Received: {argument}=({Lower}, {Upper}).");
    }

    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"({Lower}, {Upper})");
}

/// <summary>
/// What a random affine transform is drawn from, per image: a translation (fractions of the height and width), a
/// rotation (a fraction of a full turn, positive counter-clockwise) and a zoom (1 + the factor: above 1 zooms out), all
/// about the image's centre. A zero range leaves that part out. The width's zoom follows the height's when null.
/// </summary>
internal readonly record struct AffineRanges(FactorRange TranslateHeight, FactorRange TranslateWidth, FactorRange Rotate, FactorRange ZoomHeight, FactorRange? ZoomWidth);

// Random image augmentation: Keras's RandomTranslation, RandomRotation and RandomZoom.
public static partial class Ops
{
    /// <summary>
    /// Keras's RandomTranslation on channels-last images x (batch, height, width[, channels]): while
    /// <paramref name="training"/> is on, each image is shifted by a fraction of its height drawn from
    /// <paramref name="heightFactor"/> (positive: down) and of its width from <paramref name="widthFactor"/>
    /// (positive: right); otherwise x passes through. Shifts are drawn from (seed, the switch's step, the image's
    /// index in the batch) only.
    /// </summary>
    public static Node RandomTranslation(Node x, FactorRange heightFactor, FactorRange widthFactor, TrainingSwitch? training, ulong seed = 0,
        FillMode fillMode = FillMode.Reflect, Interpolation interpolation = Interpolation.Bilinear, float fillValue = 0f)
        => new RandomAffine2DOp(x, new AffineRanges(heightFactor, widthFactor, 0f, 0f, null), fillMode, interpolation, fillValue, training, seed);

    /// <summary>Keras's RandomRotation: a rotation about the centre by a fraction of 2π drawn from <paramref name="factor"/> (positive: counter-clockwise) while training; the identity otherwise.</summary>
    public static Node RandomRotation(Node x, FactorRange factor, TrainingSwitch? training, ulong seed = 0,
        FillMode fillMode = FillMode.Reflect, Interpolation interpolation = Interpolation.Bilinear, float fillValue = 0f)
        => new RandomAffine2DOp(x, new AffineRanges(0f, 0f, factor, 0f, null), fillMode, interpolation, fillValue, training, seed);

    /// <summary>
    /// Keras's RandomZoom: while training, each image is sampled on a grid scaled about its centre by 1 + a value drawn
    /// from <paramref name="heightFactor"/> (positive: zoom out, negative: zoom in), and across by 1 + a value from
    /// <paramref name="widthFactor"/>, or by the same scale when it is null (the aspect ratio kept); the identity otherwise.
    /// </summary>
    public static Node RandomZoom(Node x, FactorRange heightFactor, FactorRange? widthFactor, TrainingSwitch? training, ulong seed = 0,
        FillMode fillMode = FillMode.Reflect, Interpolation interpolation = Interpolation.Bilinear, float fillValue = 0f)
        => new RandomAffine2DOp(x, new AffineRanges(0f, 0f, 0f, heightFactor, widthFactor), fillMode, interpolation, fillValue, training, seed);
}

/// <summary>
/// A random affine resampling of each image, as Keras's image.affine_transform: output pixel p (x across, y down) reads
/// the input at q = c + Z·R·(p - c) - t, with c the centre ((W-1)/2, (H-1)/2), t the translation, R the rotation
/// [[cos θ, -sin θ], [sin θ, cos θ]] and Z = diag(zx, zy). Bilinear sampling weighs the four pixels around q, nearest takes
/// the closest; each pixel index outside the image is mapped back by the fill mode, or reads the fill value (constant).
/// The output is linear in x with weights fixed by the step's draw, so dx is the same weights' transpose: every dy
/// flows back to the pixels it was read from. Parts own whole images; each image's transform comes from (seed, step,
/// image index), so results do not depend on the thread count.
/// </summary>
internal sealed class RandomAffine2DOp : Node, IParallelWork
{
    private readonly Node _x;
    private readonly AffineRanges _ranges;
    private readonly FillMode _fill;
    private readonly Interpolation _interpolation;
    private readonly float _fillValue;
    private readonly TrainingSwitch? _training;
    private readonly ulong _seed;
    private readonly Tensor _own = new(0);
    private bool _transformed, _backward;
    private uint _k1, _k2;

    public RandomAffine2DOp(Node x, AffineRanges ranges, FillMode fillMode, Interpolation interpolation, float fillValue, TrainingSwitch? training, ulong seed)
        : base("random_affine2d", ShapeOf(x.Shape), x)
    {
        if (!float.IsFinite(fillValue)) throw new ArgumentOutOfRangeException(nameof(fillValue), fillValue, $"Invalid value received for argument `fill_value`. Expected a finite number. Received: fill_value={fillValue}.");
        _x = x; _ranges = ranges; _fill = fillMode; _interpolation = interpolation; _fillValue = fillValue; _training = training; _seed = seed;
    }

    private static int[] ShapeOf(int[] x) => x.Length is 3 or 4 ? x
        : throw new ArgumentException($"Random image augmentation takes batches of images of shape (batch, height, width, channels) or (batch, height, width); received {Tensor.ShapeToString(x)}.");

    private int Channels => _x.Value.Rank == 4 ? _x.Value.Dim(3) : 1;

    protected internal override void Forward()
    {
        var x = _x.Value;
        _transformed = TrainingSwitch.IsOn(_training);
        if (!_transformed) { Value = x; return; }           // inference: the input itself, no copy
        if (ReferenceEquals(Value, x)) Value = _own;
        Value.Resize(x.ShapeSpan);
        (_k1, _k2) = CounterRng.Keys(_seed, _training!.Step);
        _backward = false;
        Parallelism.RunOrInline(this, Math.Min(Parallelism.MaxThreads, x.Dim(0)));
    }

    protected internal override void Backprop()
    {
        if (!_transformed)
        {
            var dx = GradOf(_x, out bool acc);
            if (acc) System.Numerics.Tensors.TensorPrimitives.Add(dx, Grad.Span, dx);
            else Grad.Span.CopyTo(dx);
            return;
        }
        GradToAdd(_x);
        _backward = true;
        Parallelism.RunOrInline(this, Math.Min(Parallelism.MaxThreads, _x.Value.Dim(0)));
    }

    public void Execute(int part, int parts)
    {
        var x = _x.Value;
        int n = x.Dim(0);
        int lo = (int)((long)n * part / parts), hi = (int)((long)n * (part + 1) / parts);
        for (int i = lo; i < hi; i++) Image(i);
    }

    /// <summary>The inverse map of image <paramref name="item"/>: q = (a0·x + a1·y + a2, b0·x + b1·y + b2).</summary>
    internal static (double A0, double A1, double A2, double B0, double B1, double B2) Transform(in AffineRanges r, uint k1, uint k2, int item, int h, int w)
    {
        double U(uint j) => (CounterRng.Bits(k1, k2, (uint)item * 8 + j) >> 8) * (1.0 / (1 << 24));
        double ty = r.TranslateHeight.At(U(0)) * h, tx = r.TranslateWidth.At(U(1)) * w;
        double theta = r.Rotate.At(U(2)) * 2 * Math.PI;
        double zy = 1 + r.ZoomHeight.At(U(3)), zx = r.ZoomWidth is { } zw ? 1 + zw.At(U(4)) : zy;
        double cos = Math.Cos(theta), sin = Math.Sin(theta), cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
        double a0 = zx * cos, a1 = -zx * sin, b0 = zy * sin, b1 = zy * cos;
        return (a0, a1, cx - a0 * cx - a1 * cy - tx, b0, b1, cy - b0 * cx - b1 * cy - ty);
    }

    private void Image(int item)
    {
        var xv = _x.Value;
        int h = xv.Dim(1), w = xv.Dim(2), c = Channels;
        var (a0, a1, a2, b0, b1, b2) = Transform(_ranges, _k1, _k2, item, h, w);
        var x = xv.Span; var y = Value.Span;
        int image = item * h * w;                           // the image's first pixel
        Span<int> at = stackalloc int[4];
        Span<float> weight = stackalloc float[4];
        for (int r = 0; r < h; r++)
            for (int col = 0; col < w; col++)
            {
                int taps = Taps(a0 * col + a1 * r + a2, b0 * col + b1 * r + b2, h, w, at, weight);
                int o = (image + r * w + col) * c;
                if (!_backward)
                {
                    for (int ch = 0; ch < c; ch++)
                    {
                        float s = 0;
                        for (int t = 0; t < taps; t++) s += weight[t] * (at[t] < 0 ? _fillValue : x[(image + at[t]) * c + ch]);
                        y[o + ch] = s;
                    }
                }
                else
                {
                    var g = Grad.Span; var dx = _x.Grad.Span;
                    for (int t = 0; t < taps; t++)
                        if (at[t] >= 0)
                            for (int ch = 0; ch < c; ch++) dx[(image + at[t]) * c + ch] += weight[t] * g[o + ch];
                }
            }
    }

    /// <summary>The pixels (row·w + column, or -1 for the fill value) that sample point (qx, qy) reads, and their weights; returns how many.</summary>
    private int Taps(double qx, double qy, int h, int w, Span<int> at, Span<float> weight)
    {
        if (_interpolation == Interpolation.Nearest)
        {
            int row = Index((int)Math.Clamp(Math.Round(qy, MidpointRounding.ToEven), -1e9, 1e9), h), col = Index((int)Math.Clamp(Math.Round(qx, MidpointRounding.ToEven), -1e9, 1e9), w);
            at[0] = row < 0 || col < 0 ? -1 : row * w + col;
            weight[0] = 1;
            return 1;
        }
        double fy = Math.Floor(Math.Clamp(qy, -1e9, 1e9)), fx = Math.Floor(Math.Clamp(qx, -1e9, 1e9));
        float wy = (float)(qy - fy), wx = (float)(qx - fx);
        int r0 = Index((int)fy, h), r1 = Index((int)fy + 1, h), c0 = Index((int)fx, w), c1 = Index((int)fx + 1, w);
        at[0] = r0 < 0 || c0 < 0 ? -1 : r0 * w + c0; weight[0] = (1 - wy) * (1 - wx);
        at[1] = r0 < 0 || c1 < 0 ? -1 : r0 * w + c1; weight[1] = (1 - wy) * wx;
        at[2] = r1 < 0 || c0 < 0 ? -1 : r1 * w + c0; weight[2] = wy * (1 - wx);
        at[3] = r1 < 0 || c1 < 0 ? -1 : r1 * w + c1; weight[3] = wy * wx;
        return 4;
    }

    /// <summary>Pixel index i along an axis of n pixels, brought inside by the fill mode; -1 when it reads the fill value.</summary>
    private int Index(int i, int n)
    {
        if ((uint)i < (uint)n) return i;
        switch (_fill)
        {
            case FillMode.Constant: return -1;
            case FillMode.Nearest: return i < 0 ? 0 : n - 1;
            case FillMode.Wrap: return (int)(((long)i % n + n) % n);
            default:
                long period = 2L * n, m = ((long)i % period + period) % period;
                return (int)(m < n ? m : period - 1 - m);
        }
    }
}
