using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Dendrite.Optimizers;

/// <summary>
/// Adam (Kingma and Ba), as Keras computes it. At step t (from 1), for each weight w with gradient g:
/// m = β₁·m + (1 − β₁)·g; v = β₂·v + (1 − β₂)·g²; α = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ); w −= α·m/(√v + ε).
/// With <c>amsgrad</c>, √v is replaced by the square root of the largest v seen so far.
/// Keras's defaults: learning rate 0.001, β₁ 0.9, β₂ 0.999, ε 1e-7. (PyTorch adds ε to √v̂ after bias
/// correction instead: the same update up to where ε sits.)
/// </summary>
public class Adam : Optimizer
{
    public Adam(float learningRate = 0.001f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f, bool amsgrad = false) : base(learningRate)
    {
        Check(beta1, "beta_1"); Check(beta2, "beta_2");
        if (!(epsilon >= 0) || float.IsInfinity(epsilon))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"Invalid value received for argument `epsilon`. Expected a finite number ≥ 0. Received: epsilon={epsilon}.");
        Beta1 = beta1; Beta2 = beta2; Epsilon = epsilon; Amsgrad = amsgrad;
    }

    private static void Check(float beta, string name)
    {
        if (!(beta >= 0 && beta < 1))
            throw new ArgumentOutOfRangeException(name, beta, $"Invalid value received for argument `{name}`. Expected a number in [0, 1). Received: {name}={beta}.");
    }

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Epsilon { get; }
    public bool Amsgrad { get; }
    public override string Name => "Adam";

    /// <summary>"m" (the first moment), "v" (the second), and "vhat" (the largest v) with amsgrad.</summary>
    public override IReadOnlyList<string> SlotNames => Amsgrad ? ["m", "v", "vhat"] : ["m", "v"];

    public override IReadOnlyList<(string Name, object Value)> GetConfig() =>
        [("learning_rate", LearningRate), ("beta_1", Beta1), ("beta_2", Beta2), ("epsilon", Epsilon), ("amsgrad", Amsgrad)];

    protected override unsafe void Update(Variable v, Span<float> w, ReadOnlySpan<float> g)
    {
        float[] m = SlotFor(v, "m"), vv = SlotFor(v, "v");
        long t = Iterations + 1;
        double b1t = Math.Pow(Beta1, t), b2t = Math.Pow(Beta2, t);
        float alpha = (float)(LearningRate * Math.Sqrt(1 - b2t) / (1 - b1t));
        // Large weights split across the kernel threads: the update streams seven arrays, so it is bound by memory.
        fixed (float* pw = w, pg = g)
        {
            _work.Set(pw, pg, m, vv, Amsgrad ? SlotFor(v, "vhat") : null, w.Length, Beta1, Beta2, Epsilon, alpha);
            Parallelism.RunOrInline(_work, w.Length >= ParallelFrom ? Parallelism.MaxThreads : 1);
        }
    }

    /// <summary>Weights with at least this many elements are updated on every kernel thread.</summary>
    private const int ParallelFrom = 1 << 16;

    private readonly UpdateWork _work = new();

    /// <summary>The update of one weight as parts of whole vectors; each element is computed the same way whatever the split.</summary>
    private sealed unsafe class UpdateWork : IParallelWork
    {
        private float* _w, _g;
        private float[] _m = [], _v = [];
        private float[]? _vhat;
        private int _n;
        private float _b1, _b2, _eps, _alpha;

        public void Set(float* w, float* g, float[] m, float[] v, float[]? vhat, int n, float b1, float b2, float eps, float alpha)
        {
            _w = w; _g = g; _m = m; _v = v; _vhat = vhat; _n = n; _b1 = b1; _b2 = b2; _eps = eps; _alpha = alpha;
        }

        public void Execute(int part, int parts)
        {
            int unit = Vector<float>.Count * 16;
            int units = (_n + unit - 1) / unit;
            int lo = Math.Min(_n, (int)((long)units * part / parts) * unit), hi = Math.Min(_n, (int)((long)units * (part + 1) / parts) * unit);
            if (hi <= lo) return;
            Apply(new Span<float>(_w + lo, hi - lo), new ReadOnlySpan<float>(_g + lo, hi - lo), _m.AsSpan(lo, hi - lo), _v.AsSpan(lo, hi - lo),
                _vhat is null ? default : _vhat.AsSpan(lo, hi - lo), _vhat is not null, _b1, _b2, _eps, _alpha);
        }
    }

    /// <summary>One Adam update of every element, a vector at a time; the tail element by element with the same arithmetic.</summary>
    private static void Apply(Span<float> w, ReadOnlySpan<float> g, Span<float> m, Span<float> v, Span<float> vhat, bool amsgrad, float b1, float b2, float eps, float alpha)
    {
        ref float rw = ref MemoryMarshal.GetReference(w);
        ref float rg = ref MemoryMarshal.GetReference(g);
        ref float rm = ref MemoryMarshal.GetReference(m);
        ref float rv = ref MemoryMarshal.GetReference(v);
        ref float rh = ref MemoryMarshal.GetReference(vhat);
        int n = w.Length, i = 0;
        float c1 = 1 - b1, c2 = 1 - b2;
        if (Vector.IsHardwareAccelerated)
        {
            int vw = Vector<float>.Count;
            Vector<float> vc1 = new(c1), vc2 = new(c2), veps = new(eps), valpha = new(alpha);
            for (; i <= n - vw; i += vw)
            {
                var gi = Vector.LoadUnsafe(ref rg, (nuint)i);
                var mi = Vector.LoadUnsafe(ref rm, (nuint)i);
                var vi = Vector.LoadUnsafe(ref rv, (nuint)i);
                mi += (gi - mi) * vc1;
                vi += (gi * gi - vi) * vc2;
                mi.StoreUnsafe(ref rm, (nuint)i);
                vi.StoreUnsafe(ref rv, (nuint)i);
                if (amsgrad)
                {
                    vi = Vector.Max(Vector.LoadUnsafe(ref rh, (nuint)i), vi);
                    vi.StoreUnsafe(ref rh, (nuint)i);
                }
                var wi = Vector.LoadUnsafe(ref rw, (nuint)i);
                (wi - mi * valpha / (Vector.SquareRoot(vi) + veps)).StoreUnsafe(ref rw, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float gi = Unsafe.Add(ref rg, i);
            ref float mi = ref Unsafe.Add(ref rm, i);
            ref float vi = ref Unsafe.Add(ref rv, i);
            mi += (gi - mi) * c1;
            vi += (gi * gi - vi) * c2;
            float vv = vi;
            if (amsgrad) vv = Unsafe.Add(ref rh, i) = MathF.Max(Unsafe.Add(ref rh, i), vv);
            Unsafe.Add(ref rw, i) -= mi * alpha / (MathF.Sqrt(vv) + eps);
        }
    }
}
