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

    /// <summary>True when <paramref name="s"/> is given and on.</summary>
    internal static bool IsOn(TrainingSwitch? s) => s is { On: true };
}
