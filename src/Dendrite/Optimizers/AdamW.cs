namespace Dendrite.Optimizers;

/// <summary>
/// AdamW, as Keras defines it: Adam with decoupled weight decay, w -= lr·weight_decay·w before each Adam update
/// (Keras default weight_decay 0.004).
/// </summary>
public sealed class AdamW : Adam
{
    public AdamW(float learningRate = 0.001f, float weightDecay = 0.004f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-7f, bool amsgrad = false)
        : base(learningRate, beta1, beta2, epsilon, amsgrad) =>
        DecoupledWeightDecay = WeightDecay = Checked(weightDecay, "weight_decay", 0, 1, maxIncluded: true);

    public float WeightDecay { get; }
    public override string Name => "AdamW";

    public override IEnumerable<(string Key, object Value)> Config() => [("weight_decay", WeightDecay), .. base.Config()];
}
