namespace Dendrite.Optimizers.Schedules;

/// <summary>
/// Keras's PiecewiseConstantDecay: values[0] up to and including step boundaries[0], values[1] after it up to and
/// including boundaries[1], ..., and values[^1] after the last boundary.
/// </summary>
public sealed class PiecewiseConstantDecay : LearningRateSchedule
{
    private readonly int[] _boundaries;
    private readonly float[] _values;

    public PiecewiseConstantDecay(int[] boundaries, float[] values)
    {
        ArgumentNullException.ThrowIfNull(boundaries);
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != boundaries.Length + 1)
            throw new ArgumentException($"The length of boundaries should be 1 less than the length of values. Received: boundaries of length {boundaries.Length} and values of length {values.Length}.", nameof(values));
        for (int i = 0; i < boundaries.Length; i++)
            if (boundaries[i] < 0 || (i > 0 && boundaries[i] <= boundaries[i - 1]))
                throw new ArgumentException($"Invalid value received for argument `boundaries`. Expected non-negative steps in increasing order. Received: boundaries=[{string.Join(", ", boundaries)}].", nameof(boundaries));
        foreach (float v in values) Rate(v, "values");
        _boundaries = (int[])boundaries.Clone();
        _values = (float[])values.Clone();
    }

    public IReadOnlyList<int> Boundaries => _boundaries;
    public IReadOnlyList<float> Values => _values;
    public override string Name => "PiecewiseConstantDecay";

    public override float At(long step)
    {
        int i = 0;
        while (i < _boundaries.Length && step > _boundaries[i]) i++;
        return _values[i];
    }

    public override IReadOnlyList<(string Name, object Value)> GetConfig() =>
        [("boundaries", _boundaries.Clone()), ("values", _values.Clone())];
}
