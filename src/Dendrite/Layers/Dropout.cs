namespace Dendrite.Layers;

/// <summary>
/// Inverted dropout (Keras's Dropout): while training, each value is zeroed with probability <c>rate</c> and the rest
/// scaled by 1/(1 - rate); in Evaluate and Predict it passes values through. The mask depends only on the seed and
/// the training step, so a seeded run, and a run resumed from a checkpoint, drop the same units.
/// </summary>
public sealed class Dropout : Layer
{
    public Dropout(float rate, int? seed = null, int[]? inputShape = null, string? name = null) : base(name, inputShape)
    {
        if (!(rate >= 0 && rate < 1))
            throw new ArgumentOutOfRangeException(nameof(rate), rate, $"Invalid value received for argument `rate`. Expected a float between 0 and 1 (1 excluded). Received: rate={rate}.");
        if (seed < 0) throw new ArgumentOutOfRangeException(nameof(seed), seed, $"Invalid value received for argument `seed`. Expected a non-negative integer. Received: seed={seed}.");
        Rate = rate;
        Seed = seed;
    }

    public float Rate { get; }

    /// <summary>The seed of the masks; drawn from the model's seed when the layer is built if none was given.</summary>
    public int? Seed { get; private set; }

    public override int[] ComputeOutputShape(int[] inputShape) => inputShape;

    protected override void CreateWeights(int[] inputShape, Rng rng) => Seed ??= rng.NextInt(int.MaxValue);

    public override Node Call(Node input, TrainingSwitch? training = null) =>
        Ops.Dropout(input, Rate, training, (ulong)(Seed ?? throw new InvalidOperationException($"Layer `{Name}` is not built yet.")));

    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?> { ["name"] = Name, ["rate"] = Rate, ["seed"] = Seed };
}
