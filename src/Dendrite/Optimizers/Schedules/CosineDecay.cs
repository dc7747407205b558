namespace Dendrite.Optimizers.Schedules;

/// <summary>
/// Keras's CosineDecay (SGDR without restarts), with optional linear warm-up. Without a warm-up target:
/// lr = initial · ((1 - alpha) · ½(1 + cos(π · min(step, decay_steps) / decay_steps)) + alpha).
/// With one: the rate climbs linearly from initial_learning_rate to warmup_target over warmup_steps, then decays
/// from warmup_target by the same cosine over decay_steps, and stays at alpha · warmup_target after that.
/// </summary>
public sealed class CosineDecay : LearningRateSchedule
{
    public CosineDecay(float initialLearningRate, int decaySteps, float alpha = 0f, float? warmupTarget = null, int warmupSteps = 0)
    {
        InitialLearningRate = Rate(initialLearningRate, "initial_learning_rate");
        DecaySteps = Steps(decaySteps, "decay_steps");
        Alpha = alpha >= 0 && alpha <= 1 ? alpha
            : throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"Invalid value received for argument `alpha`. Expected a number in [0, 1]. Received: alpha={alpha}.");
        WarmupTarget = warmupTarget is float t ? Rate(t, "warmup_target") : null;
        WarmupSteps = Steps(warmupSteps, "warmup_steps", zeroAllowed: true);
        if (WarmupSteps > 0 && WarmupTarget is null)
            throw new ArgumentException($"CosineDecay: warmup_steps={warmupSteps} needs a warmup_target, the rate the warm-up climbs to.", nameof(warmupTarget));
    }

    public float InitialLearningRate { get; }
    public int DecaySteps { get; }
    public float Alpha { get; }
    public float? WarmupTarget { get; }
    public int WarmupSteps { get; }
    public override string Name => "CosineDecay";

    public override float At(long step)
    {
        if (WarmupTarget is not float target) return Decay(Math.Min(step, DecaySteps), InitialLearningRate);
        long s = Math.Min(step, (long)DecaySteps + WarmupSteps);
        if (s < WarmupSteps) return (float)((target - (double)InitialLearningRate) * s / WarmupSteps + InitialLearningRate);
        return Decay(s - WarmupSteps, target);
    }

    private float Decay(long step, float from)
    {
        double cosine = 0.5 * (1 + Math.Cos(Math.PI * step / DecaySteps));
        return (float)(from * ((1 - Alpha) * cosine + Alpha));
    }

    public override IReadOnlyList<(string Name, object Value)> GetConfig()
    {
        var c = new List<(string, object)> { ("initial_learning_rate", InitialLearningRate), ("decay_steps", DecaySteps), ("alpha", Alpha) };
        if (WarmupTarget is float t) c.Add(("warmup_target", t));
        c.Add(("warmup_steps", WarmupSteps));
        return c;
    }
}
