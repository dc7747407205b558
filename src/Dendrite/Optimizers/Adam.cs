using System.Numerics;

namespace Dendrite.Optimizers;

/// <summary>
/// Adam, as Keras defines it. At step t (1-based): m += (1-β₁)(g - m), v += (1-β₂)(g² - v),
/// α = lr·√(1-β₂ᵗ)/(1-β₁ᵗ), w -= α·m/(√v + ε). With <c>amsgrad</c>, v̂ = max(v̂, v) takes v's place in the update.
/// </summary>
/// <remarks>
/// ε is added to √v before the bias correction is applied to the step, as in Keras (PyTorch adds it after, which
/// differs by at most ε·√(1-β₂ᵗ) in the denominator). The update is vectorised and allocates nothing once each
/// weight's slots exist (made at its first update).
/// </remarks>
public class Adam : Optimizer
{
    public Adam(float learningRate = 0.001f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f, bool amsgrad = false) : base(learningRate)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, $"Invalid value received for argument `beta_1`. Expected a number in [0, 1). Received: beta_1={beta1}.");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, $"Invalid value received for argument `beta_2`. Expected a number in [0, 1). Received: beta_2={beta2}.");
        if (!(epsilon >= 0) || float.IsInfinity(epsilon)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"Invalid value received for argument `epsilon`. Expected a finite number ≥ 0. Received: epsilon={epsilon}.");
        Beta1 = beta1; Beta2 = beta2; Epsilon = epsilon; Amsgrad = amsgrad;
    }

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Epsilon { get; }
    public bool Amsgrad { get; }
    public override string Name => "Adam";

    /// <summary>Decoupled weight decay (AdamW): w -= lr·wd·w before each update.</summary>
    protected float DecoupledWeightDecay { get; init; }

    /// <summary>First moment m, second moment v, and with amsgrad the running maximum of v.</summary>
    public override IReadOnlyList<string> SlotNames => Amsgrad ? ["m", "v", "vhat"] : ["m", "v"];

    public override IEnumerable<(string Key, object Value)> Config() =>
        [("beta_1", Beta1), ("beta_2", Beta2), ("epsilon", Epsilon), ("amsgrad", Amsgrad)];

    protected override void Update(Variable v, Span<float> w, ReadOnlySpan<float> g)
    {
        long t = Iterations + 1;
        double bc1 = 1 - Math.Pow(Beta1, t), bc2 = 1 - Math.Pow(Beta2, t);
        float alpha = (float)(LearningRate * Math.Sqrt(bc2) / bc1);
        var m = SlotFor(v, "m").AsSpan(0, w.Length);
        var s = SlotFor(v, "v").AsSpan(0, w.Length);
        var vhat = Amsgrad ? SlotFor(v, "vhat").AsSpan(0, w.Length) : default;
        if (DecoupledWeightDecay != 0) System.Numerics.Tensors.TensorPrimitives.Multiply(w, 1 - LearningRate * DecoupledWeightDecay, w);
        float c1 = 1 - Beta1, c2 = 1 - Beta2, eps = Epsilon;
        int i = 0, n = w.Length;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            var vc1 = new Vector<float>(c1); var vc2 = new Vector<float>(c2);
            var va = new Vector<float>(alpha); var ve = new Vector<float>(eps);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var gv = new Vector<float>(g[i..]);
                var mv = new Vector<float>(m[i..]);
                var sv = new Vector<float>(s[i..]);
                mv += (gv - mv) * vc1;
                sv += (gv * gv - sv) * vc2;
                mv.CopyTo(m[i..]);
                sv.CopyTo(s[i..]);
                if (Amsgrad)
                {
                    sv = Vector.Max(new Vector<float>(vhat[i..]), sv);
                    sv.CopyTo(vhat[i..]);
                }
                (new Vector<float>(w[i..]) - mv * va / (Vector.SquareRoot(sv) + ve)).CopyTo(w[i..]);
            }
        }
        for (; i < n; i++)
        {
            float gi = g[i];
            float mi = m[i] += (gi - m[i]) * c1;
            float si = s[i] += (gi * gi - s[i]) * c2;
            if (Amsgrad) si = vhat[i] = MathF.Max(vhat[i], si);
            w[i] -= mi * alpha / (MathF.Sqrt(si) + eps);
        }
    }
}
