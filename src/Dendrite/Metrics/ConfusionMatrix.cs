namespace Dendrite.Metrics;

/// <summary>
/// Counts of (true class, predicted class) pairs, rows true and columns predicted, with per-class
/// precision = TP / (TP + FP) (its column), recall = TP / (TP + FN) (its row), and F1 = 2PR / (P + R).
/// A class never predicted has precision 0; a class absent from the data has recall 0.
/// </summary>
public sealed class ConfusionMatrix
{
    public ConfusionMatrix(IReadOnlyList<string> classNames)
    {
        ClassNames = classNames.ToArray();
        Counts = new long[ClassNames.Length, ClassNames.Length];
    }

    public string[] ClassNames { get; }
    public int Classes => ClassNames.Length;
    /// <summary>Counts[true, predicted].</summary>
    public long[,] Counts { get; }

    public static ConfusionMatrix From(IReadOnlyList<int> actual, IReadOnlyList<int> predicted, IReadOnlyList<string> classNames)
    {
        if (actual.Count != predicted.Count) throw new ArgumentException($"{actual.Count} true labels but {predicted.Count} predictions.");
        var m = new ConfusionMatrix(classNames);
        for (int i = 0; i < actual.Count; i++) m.Add(actual[i], predicted[i]);
        return m;
    }

    public void Add(int actual, int predicted)
    {
        if ((uint)actual >= (uint)Classes || (uint)predicted >= (uint)Classes)
            throw new ArgumentOutOfRangeException(nameof(actual), $"Class ({actual}, {predicted}) is outside 0..{Classes - 1}.");
        Counts[actual, predicted]++;
    }

    public long Total { get { long t = 0; foreach (var c in Counts) t += c; return t; } }
    public long Support(int c) { long s = 0; for (int j = 0; j < Classes; j++) s += Counts[c, j]; return s; }
    public long PredictedCount(int c) { long s = 0; for (int i = 0; i < Classes; i++) s += Counts[i, c]; return s; }
    public double Precision(int c) => PredictedCount(c) == 0 ? 0 : (double)Counts[c, c] / PredictedCount(c);
    public double Recall(int c) => Support(c) == 0 ? 0 : (double)Counts[c, c] / Support(c);
    public double F1(int c) { double p = Precision(c), r = Recall(c); return p + r == 0 ? 0 : 2 * p * r / (p + r); }
    public double Accuracy { get { long t = 0; for (int c = 0; c < Classes; c++) t += Counts[c, c]; return Total == 0 ? 0 : (double)t / Total; } }
    public double MacroF1 => Enumerable.Range(0, Classes).Average(F1);
}
