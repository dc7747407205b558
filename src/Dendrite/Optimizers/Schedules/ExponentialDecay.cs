namespace Dendrite.Optimizers.Schedules;

/// <summary>
/// Keras's ExponentialDecay: initial_learning_rate · decay_rate ^ (step / decay_steps), with the exponent rounded down
/// when <see cref="Staircase"/> (the rate then drops once every decay_steps updates).
/// </summary>
public sealed class ExponentialDecay : LearningRateSchedule
{
    public ExponentialDecay(float initialLearningRate, int decaySteps, float decayRate, bool staircase = false)
    {
        InitialLearningRate = Rate(initialLearningRate, "initial_learning_rate");
        DecaySteps = Steps(decaySteps, "decay_steps");
        DecayRate = decayRate > 0 && float.IsFinite(decayRate) ? decayRate
            : throw new ArgumentOutOfRangeException(nameof(decayRate), decayRate, $"Invalid value received for argument `decay_rate`. Expected a positive finite number. Received: decay_rate={decayRate}.");
        Staircase = staircase;
    }

    public float InitialLearningRate { get; }
    public int DecaySteps { get; }
    public float DecayRate { get; }
    public bool Staircase { get; }
    public override string Name => "ExponentialDecay";

    public override float At(long step)
    {
        double p = (double)step / DecaySteps;
        if (Staircase) p = Math.Floor(p);
        return (float)(InitialLearningRate * Math.Pow(DecayRate, p));
    }

    public override IReadOnlyList<(string Name, object Value)> GetConfig() =>
        [("initial_learning_rate", InitialLearningRate), ("decay_steps", DecaySteps), ("decay_rate", DecayRate), ("staircase", Staircase)];
}
