using System.Numerics;

namespace Dendrite.Optimizers;

/// <summary>
/// Adadelta, as Keras defines it: A = ρ·A + (1-ρ)·g², d = -√(D + ε)·g/√(A + ε), D = ρ·D + (1-ρ)·d², w += lr·d.
/// Keras defaults: lr 0.001, ρ 0.95, ε 1e-7.
/// </summary>
public sealed class Adadelta : Optimizer
{
    public Adadelta(float learningRate = 0.001f, float rho = 0.95f, float epsilon = 1e-7f) : base(learningRate)
    {
        Rho = Checked(rho, "rho", 0, 1);
        Epsilon = Checked(epsilon, "epsilon", 0, float.MaxValue, maxIncluded: true);
    }

    public float Rho { get; }
    public float Epsilon { get; }
    public override string Name => "Adadelta";

    /// <summary>The running means of g² and of the squared updates (Keras's accumulated_grad and accumulated_delta_var).</summary>
    public override IReadOnlyList<string> SlotNames => ["accumulated_grad", "accumulated_delta"];

    public override IReadOnlyList<(string Name, object Value)> GetConfig() =>
        [("learning_rate", LearningRate), ("rho", Rho), ("epsilon", Epsilon)];

    protected override void Update(Variable v, Span<float> w, ReadOnlySpan<float> g)
    {
        var ag = SlotFor(v, "accumulated_grad").AsSpan(0, w.Length);
        var ad = SlotFor(v, "accumulated_delta").AsSpan(0, w.Length);
        float rho = Rho, c = 1 - Rho, lr = LearningRate, eps = Epsilon;
        int i = 0, n = w.Length;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> vr = new(rho), vc = new(c), vl = new(lr), ve = new(eps);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var gv = new Vector<float>(g[i..]);
                var agv = vr * new Vector<float>(ag[i..]) + vc * gv * gv;
                agv.CopyTo(ag[i..]);
                var adv = new Vector<float>(ad[i..]);
                var d = -Vector.SquareRoot(adv + ve) * gv / Vector.SquareRoot(agv + ve);
                (vr * adv + vc * d * d).CopyTo(ad[i..]);
                (new Vector<float>(w[i..]) + vl * d).CopyTo(w[i..]);
            }
        }
        for (; i < n; i++)
        {
            float gi = g[i];
            float agi = ag[i] = rho * ag[i] + c * gi * gi;
            float d = -MathF.Sqrt(ad[i] + eps) * gi / MathF.Sqrt(agi + eps);
            ad[i] = rho * ad[i] + c * d * d;
            w[i] += lr * d;
        }
    }
}
