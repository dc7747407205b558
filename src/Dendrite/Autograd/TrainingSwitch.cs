namespace Dendrite;

/// <summary>
/// Says, at run time, whether a graph is training. Graphs are built once and run many times, so ops that act
/// differently while training (Dropout, BatchNormalization, the random augmentation layers) read a switch when
/// they run rather than a flag fixed when they were built. <see cref="Models.Sequential"/> owns one: <c>Fit</c>
/// turns it on for each training step, <c>Evaluate</c> and <c>Predict</c> run with it off. At the low level,
/// pass one to such ops and set <see cref="On"/> yourself; an op given no switch always runs in inference mode.
/// </summary>
public sealed class TrainingSwitch
{
    /// <summary>True while the graph runs a training step.</summary>
    public bool On { get; set; }

    /// <summary>
    /// The number of the training step under way, counted from the start of the run. Random ops (Dropout,
    /// augmentation) draw their noise from (their seed, this step), not from a stream that advances as they run, so a
    /// run resumed from a checkpoint at step s draws exactly what the uninterrupted run drew there. <c>Fit</c> sets
    /// it; at the low level, set it yourself (for example to the iteration number).
    /// </summary>
    public long Step { get; set; }

    /// <summary>True when <paramref name="s"/> is given and on.</summary>
    internal static bool IsOn(TrainingSwitch? s) => s is { On: true };
}
