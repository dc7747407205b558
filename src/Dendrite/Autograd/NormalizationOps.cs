using System.Numerics;
using System.Runtime.CompilerServices;

namespace Dendrite;

// Batch normalisation over the last axis (features, or channels of NHWC images).
public static partial class Ops
{
    /// <summary>
    /// Batch normalisation over the last axis, as Keras's BatchNormalization. While <paramref name="training"/> is on:
    /// y = γ·(x - μ)/√(σ² + ε) + β with μ, σ² the batch's mean and (biased) variance per feature, and the moving
    /// statistics updated as m = m·momentum + μ·(1 - momentum) (and likewise σ²). Otherwise the moving statistics
    /// stand in for μ and σ². <paramref name="gamma"/> and <paramref name="beta"/> may be null (scale or center off).
    /// </summary>
    public static Node BatchNormalization(Node x, Node? gamma, Node? beta, Variable movingMean, Variable movingVariance,
        float momentum = 0.99f, float epsilon = 1e-3f, TrainingSwitch? training = null)
        => new BatchNormOp(x, gamma, beta, movingMean, movingVariance, momentum, epsilon, training);
}

/// <summary>
/// Batch normalisation, vectorised along the feature axis. Column sums are taken over fixed blocks of rows whose
/// partial sums are added in block order, so the result does not depend on how many threads took the blocks.
/// </summary>
internal sealed unsafe class BatchNormOp : Node, IParallelWork
{
    private const int BlockRows = 256;

    private readonly Node _x;
    private readonly Node? _gamma, _beta;
    private readonly Variable _mean, _var;
    private readonly float _momentum, _epsilon;
    private readonly TrainingSwitch? _training;
    private readonly Tensor _xhat = new(0);
    private float[] _mu = [], _invStd = [], _scale = [], _shift = [], _blockSums = [], _sumG = [], _sumGx = [];
    private bool _trainedPass;
    private int _phase, _rows, _c;

    public BatchNormOp(Node x, Node? gamma, Node? beta, Variable movingMean, Variable movingVariance, float momentum, float epsilon, TrainingSwitch? training)
        : base("batch_normalization", x.Shape, InputList(x, gamma, beta, movingMean, movingVariance))
    {
        int c = x.Shape.Length == 0 ? 0 : x.Shape[^1];
        if (x.Shape.Length < 2 || c <= 0) throw new ArgumentException($"BatchNormalization needs a batch of items with a feature axis last; received shape {Tensor.ShapeToString(x.Shape)}.");
        foreach (var (p, what) in new[] { (gamma, "gamma"), (beta, "beta"), (movingMean, "moving_mean"), (movingVariance, "moving_variance") })
            if (p is not null && (p.Shape.Length != 1 || p.Shape[0] != c))
                throw new ArgumentException($"BatchNormalization {what} must have shape ({c},); received {Tensor.ShapeToString(p.Shape)}.");
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"Invalid value received for argument `momentum`. Expected a number in [0, 1]. Received: momentum={momentum}.");
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"Invalid value received for argument `epsilon`. Expected a positive number. Received: epsilon={epsilon}.");
        _x = x; _gamma = gamma; _beta = beta; _mean = movingMean; _var = movingVariance; _momentum = momentum; _epsilon = epsilon; _training = training;
    }

    private static Node[] InputList(Node x, Node? gamma, Node? beta, Variable mean, Variable variance)
    {
        var list = new List<Node> { x };
        if (gamma is not null) list.Add(gamma);
        if (beta is not null) list.Add(beta);
        list.Add(mean); list.Add(variance);
        return [.. list];
    }

    private void Size(int c, int rows)
    {
        _c = c; _rows = rows;
        if (_mu.Length != c) { _mu = new float[c]; _invStd = new float[c]; _scale = new float[c]; _shift = new float[c]; _sumG = new float[c]; _sumGx = new float[c]; }
        int blocks = (rows + BlockRows - 1) / BlockRows;
        if (_blockSums.Length < 2 * blocks * c) _blockSums = new float[2 * blocks * c];
    }

    private int Blocks => (_rows + BlockRows - 1) / BlockRows;

    protected internal override void Forward()
    {
        var x = _x.Value;
        int c = x.Dim(-1), rows = x.Length / c;
        Size(c, rows);
        Value.Resize(x.ShapeSpan);
        _trainedPass = TrainingSwitch.IsOn(_training);
        ReadOnlySpan<float> gamma = _gamma is null ? default : _gamma.Value.Span, beta = _beta is null ? default : _beta.Value.Span;
        if (_trainedPass)
        {
            _xhat.Resize(x.ShapeSpan);
            RunPhase(0);                                               // block sums of x
            var mean = _mu.AsSpan();
            ReduceBlocks(0, mean, 1.0 / rows);
            RunPhase(1);                                               // block sums of (x - μ)²
            var variance = _invStd.AsSpan();                           // σ² first, then turned into 1/√(σ² + ε)
            ReduceBlocks(0, variance, 1.0 / rows);
            var mm = _mean.Value.Span; var mv = _var.Value.Span;
            for (int j = 0; j < c; j++)
            {
                mm[j] = mm[j] * _momentum + mean[j] * (1 - _momentum);
                mv[j] = mv[j] * _momentum + variance[j] * (1 - _momentum);
                _invStd[j] = 1f / MathF.Sqrt(variance[j] + _epsilon);
                _scale[j] = (gamma.IsEmpty ? 1f : gamma[j]) * _invStd[j];
                _shift[j] = (beta.IsEmpty ? 0f : beta[j]) - mean[j] * _scale[j];
            }
            RunPhase(2);                                               // x̂ = (x - μ)/σ, y = x·scale + shift
        }
        else
        {
            var mm = _mean.Value.Span; var mv = _var.Value.Span;
            for (int j = 0; j < c; j++)
            {
                _mu[j] = mm[j];
                _invStd[j] = 1f / MathF.Sqrt(mv[j] + _epsilon);
                _scale[j] = (gamma.IsEmpty ? 1f : gamma[j]) * _invStd[j];
                _shift[j] = (beta.IsEmpty ? 0f : beta[j]) - mm[j] * _scale[j];
            }
            RunPhase(3);                                               // y = x·scale + shift
        }
    }

    protected internal override void Backprop()
    {
        int c = _c, rows = _rows;
        // Σ_r g and Σ_r g·x̂ per feature; x̂ = (x - μ)·(1/σ) with the batch's or the moving statistics.
        if (!_trainedPass) { _xhat.Resize(_x.Value.ShapeSpan); RunPhase(4); }
        RunPhase(5);
        ReduceBlocks(0, _sumG, 1.0);
        ReduceBlocks(1, _sumGx, 1.0);
        if (_gamma is { RequiresGrad: true })
        {
            var dg = GradOf(_gamma, out bool acc);
            for (int j = 0; j < c; j++) dg[j] = (acc ? dg[j] : 0) + _sumGx[j];
        }
        if (_beta is { RequiresGrad: true })
        {
            var db = GradOf(_beta, out bool acc);
            for (int j = 0; j < c; j++) db[j] = (acc ? db[j] : 0) + _sumG[j];
        }
        if (_x.RequiresGrad)
        {
            GradToAdd(_x);
            // training: dx = (γ/σ)·(g - Σg/N - x̂·Σ(g·x̂)/N); inference: dx = (γ/σ)·g
            for (int j = 0; j < c; j++)
            {
                _sumG[j] = _trainedPass ? _sumG[j] / rows : 0;
                _sumGx[j] = _trainedPass ? _sumGx[j] / rows : 0;
            }
            RunPhase(6);
        }
    }

    private void RunPhase(int phase)
    {
        _phase = phase;
        Parallelism.RunOrInline(this, Math.Min(Parallelism.MaxThreads, Blocks));
    }

    /// <summary>dst[j] = scale · Σ_blocks partial sums of set <paramref name="set"/>, added in block order.</summary>
    private void ReduceBlocks(int set, Span<float> dst, double scale)
    {
        int c = _c, blocks = Blocks;
        var sums = _blockSums.AsSpan(set * blocks * c, blocks * c);
        for (int j = 0; j < c; j++)
        {
            double s = 0;
            for (int b = 0; b < blocks; b++) s += sums[b * c + j];
            dst[j] = (float)(s * scale);
        }
    }

    public void Execute(int part, int parts)
    {
        int blocks = Blocks, c = _c;
        int lo = (int)((long)blocks * part / parts), hi = (int)((long)blocks * (part + 1) / parts);
        fixed (float* x = _x.Value.Span, y = Value.Span, xh = _xhat.Span, sums = _blockSums, mu = _mu, inv = _invStd, sc = _scale, sh = _shift, sg = _sumG, sgx = _sumGx)
        {
            fixed (float* gamma = _gamma is null ? default : _gamma.Value.Span)
            fixed (float* g = _phase >= 5 ? Grad.Span : default, dx = _phase == 6 ? _x.Grad.Span : default)
            {
                for (int b = lo; b < hi; b++)
                {
                    int r0 = b * BlockRows, r1 = Math.Min(_rows, r0 + BlockRows);
                    long o0 = (long)r0 * c, o1 = (long)r1 * c;
                    switch (_phase)
                    {
                        case 0: BlockSum(x + o0, r1 - r0, c, null, sums + (long)b * c); break;
                        case 1: BlockSum(x + o0, r1 - r0, c, mu, sums + (long)b * c); break;
                        case 2: Affine(x + o0, xh + o0, y + o0, r1 - r0, c, mu, inv, sc, sh); break;
                        case 3: Affine(x + o0, null, y + o0, r1 - r0, c, null, null, sc, sh); break;
                        case 4: Affine(x + o0, xh + o0, null, r1 - r0, c, mu, inv, null, null); break;
                        case 5: GradientSums(g + o0, xh + o0, r1 - r0, c, sums + (long)b * c, sums + ((long)blocks + b) * c); break;
                        default: InputGradient(g + o0, xh + o0, dx + o0, r1 - r0, c, gamma, inv, sg, sgx); break;
                    }
                }
            }
        }
    }

    /// <summary>sum[j] = Σ_r x[r, j] (or Σ_r (x[r, j] - mu[j])² when <paramref name="mu"/> is given).</summary>
    private static void BlockSum(float* x, int rows, int c, float* mu, float* sum)
    {
        new Span<float>(sum, c).Clear();
        int vw = Vector<float>.Count;
        for (int r = 0; r < rows; r++, x += c)
        {
            int j = 0;
            for (; j <= c - vw; j += vw)
            {
                var v = Load(x + j);
                if (mu != null) { v -= Load(mu + j); v *= v; }
                Store(sum + j, Load(sum + j) + v);
            }
            for (; j < c; j++) { float v = x[j]; if (mu != null) { v -= mu[j]; v *= v; } sum[j] += v; }
        }
    }

    /// <summary>x̂ = (x - mu)·inv when asked; y = x·scale + shift when asked.</summary>
    private static void Affine(float* x, float* xh, float* y, int rows, int c, float* mu, float* inv, float* sc, float* sh)
    {
        int vw = Vector<float>.Count;
        for (int r = 0; r < rows; r++, x += c)
        {
            int j = 0;
            for (; j <= c - vw; j += vw)
            {
                var v = Load(x + j);
                if (xh != null) Store(xh + j, (v - Load(mu + j)) * Load(inv + j));
                if (y != null) Store(y + j, v * Load(sc + j) + Load(sh + j));
            }
            for (; j < c; j++)
            {
                if (xh != null) xh[j] = (x[j] - mu[j]) * inv[j];
                if (y != null) y[j] = x[j] * sc[j] + sh[j];
            }
            if (xh != null) xh += c;
            if (y != null) y += c;
        }
    }

    private static void GradientSums(float* g, float* xh, int rows, int c, float* sumG, float* sumGx)
    {
        new Span<float>(sumG, c).Clear();
        new Span<float>(sumGx, c).Clear();
        int vw = Vector<float>.Count;
        for (int r = 0; r < rows; r++, g += c, xh += c)
        {
            int j = 0;
            for (; j <= c - vw; j += vw)
            {
                var gv = Load(g + j);
                Store(sumG + j, Load(sumG + j) + gv);
                Store(sumGx + j, Load(sumGx + j) + gv * Load(xh + j));
            }
            for (; j < c; j++) { sumG[j] += g[j]; sumGx[j] += g[j] * xh[j]; }
        }
    }

    /// <summary>dx += γ·inv·(g - meanG - x̂·meanGx).</summary>
    private static void InputGradient(float* g, float* xh, float* dx, int rows, int c, float* gamma, float* inv, float* meanG, float* meanGx)
    {
        int vw = Vector<float>.Count;
        for (int r = 0; r < rows; r++, g += c, xh += c, dx += c)
        {
            int j = 0;
            for (; j <= c - vw; j += vw)
            {
                var k = Load(inv + j);
                if (gamma != null) k *= Load(gamma + j);
                Store(dx + j, Load(dx + j) + k * (Load(g + j) - Load(meanG + j) - Load(xh + j) * Load(meanGx + j)));
            }
            for (; j < c; j++)
                dx[j] += (gamma != null ? gamma[j] : 1f) * inv[j] * (g[j] - meanG[j] - xh[j] * meanGx[j]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Load(float* p) => Unsafe.ReadUnaligned<Vector<float>>(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* p, Vector<float> v) => Unsafe.WriteUnaligned(p, v);
}
