using System.Globalization;

namespace Dendrite.Models;

/// <summary>
/// When a run that finished without a NaN has still diverged. The rule, in two parts:
/// <list type="bullet">
/// <item>the loss ends far above where it started: the last epoch's mean training loss is more than
/// <see cref="LossFactor"/> times the loss of the run's first batch (taken before any update);</item>
/// <item>or the accuracy sits at chance: no more than <see cref="ChanceMargin"/> above what always answering the
/// most common class scores (1/classes when the class shares are not known).</item>
/// </list>
/// A diverged run never replaces an existing model or checkpoint unless asked to (the CLI's --overwrite;
/// <see cref="Callbacks.ModelCheckpoint"/>'s overwriteDiverged).
/// </summary>
public static class Divergence
{
    public const double LossFactor = 2;
    public const double ChanceMargin = 0.01;

    /// <summary>Why the run of <paramref name="history"/> has diverged, or null: the loss rule, then the accuracy rule when <paramref name="accuracy"/> is given.</summary>
    public static string? Check(History history, double? accuracy = null, double? chance = null, string accuracyName = "accuracy")
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.BatchLoss.Count == 0) return null;                 // nothing was trained: nothing to judge
        if (history.Loss.Count > 0)
        {
            double first = history.BatchLoss[0], last = history.Loss[^1];
            if (last > LossFactor * Math.Max(first, 0))
                return string.Create(CultureInfo.InvariantCulture, $"the training loss ended at {last:G4}, more than {LossFactor}× the {first:G4} it started from");
        }
        if (accuracy is double a && chance is double c && c < 1 && a <= c + ChanceMargin)
            return string.Create(CultureInfo.InvariantCulture, $"the {accuracyName} is {a * 100:F2}%, no better than chance ({c * 100:F2}%, always answering the most common class)");
        return null;
    }

    /// <summary>The accuracy of always answering the most common of <paramref name="labels"/> (class indices).</summary>
    public static double Chance(ReadOnlySpan<byte> labels)
    {
        if (labels.Length == 0) return 0;
        Span<int> counts = stackalloc int[256];
        foreach (byte l in labels) counts[l]++;
        int max = 0;
        foreach (int n in counts) max = Math.Max(max, n);
        return (double)max / labels.Length;
    }
}
