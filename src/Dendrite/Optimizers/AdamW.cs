namespace Dendrite.Optimizers;

/// <summary>
/// AdamW (Loshchilov and Hutter), as Keras computes it: before each <see cref="Adam"/> step every weight decays,
/// w -= lr·wd·w, apart from the gradient (PyTorch's AdamW decays by the same lr·wd·w). Keras's defaults: learning
/// rate 0.001, weight_decay 0.004, β₁ 0.9, β₂ 0.999, ε 1e-7. Any optimizer can decay weights by setting
/// <see cref="Optimizer.WeightDecay"/>; AdamW is Adam with it on by default.
/// </summary>
public sealed class AdamW : Adam
{
    public AdamW(float learningRate = 0.001f, float weightDecay = 0.004f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f, bool amsgrad = false)
        : base(learningRate, beta1, beta2, epsilon, amsgrad) => WeightDecay = weightDecay;

    public override string Name => "AdamW";

    public override IReadOnlyList<(string Name, object Value)> GetConfig() =>
        [("learning_rate", LearningRate), ("weight_decay", WeightDecay), ("beta_1", Beta1), ("beta_2", Beta2), ("epsilon", Epsilon), ("amsgrad", Amsgrad)];
}
