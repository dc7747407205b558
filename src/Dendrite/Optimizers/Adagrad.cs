using System.Numerics;

namespace Dendrite.Optimizers;

/// <summary>
/// Adagrad, as Keras defines it: a += g², w -= lr·g/√(a + ε), the accumulator a starting at
/// initial_accumulator_value. Keras defaults: lr 0.001, initial_accumulator_value 0.1, ε 1e-7.
/// </summary>
public sealed class Adagrad : Optimizer
{
    public Adagrad(float learningRate = 0.001f, float initialAccumulatorValue = 0.1f, float epsilon = 1e-7f) : base(learningRate)
    {
        InitialAccumulatorValue = Checked(initialAccumulatorValue, "initial_accumulator_value", 0, float.MaxValue, maxIncluded: true);
        Epsilon = Checked(epsilon, "epsilon", 0, float.MaxValue, maxIncluded: true);
    }

    public float InitialAccumulatorValue { get; }
    public float Epsilon { get; }
    public override string Name => "Adagrad";
    public override IReadOnlyList<string> SlotNames => ["accumulator"];

    public override IReadOnlyList<(string Name, object Value)> GetConfig() =>
        [("learning_rate", LearningRate), ("initial_accumulator_value", InitialAccumulatorValue), ("epsilon", Epsilon)];

    protected override void Update(Variable v, Span<float> w, ReadOnlySpan<float> g)
    {
        var a = SlotFor(v, "accumulator", InitialAccumulatorValue).AsSpan(0, w.Length);
        float lr = LearningRate, eps = Epsilon;
        int i = 0, n = w.Length;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> vl = new(lr), ve = new(eps);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
            {
                var gv = new Vector<float>(g[i..]);
                var av = new Vector<float>(a[i..]) + gv * gv;
                av.CopyTo(a[i..]);
                (new Vector<float>(w[i..]) - vl * gv / Vector.SquareRoot(av + ve)).CopyTo(w[i..]);
            }
        }
        for (; i < n; i++)
        {
            float gi = g[i];
            float ai = a[i] += gi * gi;
            w[i] -= lr * gi / MathF.Sqrt(ai + eps);
        }
    }
}
