using System.Numerics;

namespace Dendrite.Optimizers;

/// <summary>
/// RMSprop, as Keras defines it: s = ρ·s + (1-ρ)·g², step = lr·g/√(s + ε); without momentum w -= step, with
/// momentum μ, b = μ·b + step and w -= b. Keras defaults: lr 0.001, ρ 0.9, momentum 0, ε 1e-7.
/// </summary>
public sealed class RMSprop : Optimizer
{
    public RMSprop(float learningRate = 0.001f, float rho = 0.9f, float momentum = 0f, float epsilon = 1e-7f) : base(learningRate)
    {
        Rho = Checked(rho, "rho", 0, 1);
        Momentum = Checked(momentum, "momentum", 0, 1);
        Epsilon = Checked(epsilon, "epsilon", 0, float.MaxValue, maxIncluded: true);
    }

    public float Rho { get; }
    public float Momentum { get; }
    public float Epsilon { get; }
    public override string Name => "RMSprop";

    /// <summary>The running mean of g² ("velocity", Keras's name) and, with momentum, the momentum buffer.</summary>
    public override IReadOnlyList<string> SlotNames => Momentum == 0 ? ["velocity"] : ["velocity", "momentum"];

    public override IReadOnlyList<(string Name, object Value)> GetConfig() =>
        [("learning_rate", LearningRate), ("rho", Rho), ("momentum", Momentum), ("epsilon", Epsilon)];

    protected override void Update(Variable v, Span<float> w, ReadOnlySpan<float> g)
    {
        var s = SlotFor(v, "velocity").AsSpan(0, w.Length);
        bool mom = Momentum != 0;
        var b = mom ? SlotFor(v, "momentum").AsSpan(0, w.Length) : default;
        float rho = Rho, c = 1 - Rho, lr = LearningRate, eps = Epsilon, mu = Momentum;
        int i = 0, n = w.Length;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> vr = new(rho), vc = new(c), vl = new(lr), ve = new(eps), vm = new(mu);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var gv = new Vector<float>(g[i..]);
                var sv = vr * new Vector<float>(s[i..]) + vc * gv * gv;
                sv.CopyTo(s[i..]);
                var step = vl * gv / Vector.SquareRoot(sv + ve);
                if (mom)
                {
                    step = vm * new Vector<float>(b[i..]) + step;
                    step.CopyTo(b[i..]);
                }
                (new Vector<float>(w[i..]) - step).CopyTo(w[i..]);
            }
        }
        for (; i < n; i++)
        {
            float gi = g[i];
            float si = s[i] = rho * s[i] + c * gi * gi;
            float step = lr * gi / MathF.Sqrt(si + eps);
            if (mom) step = b[i] = mu * b[i] + step;
            w[i] -= step;
        }
    }
}
