using System.Globalization;
using System.Text;

namespace Dendrite.Models;

/// <summary>
/// What <c>Fit</c> returns: per-epoch figures under Keras's names (loss, accuracy, val_loss,
/// val_accuracy) and per-iteration (mini-batch) loss and accuracy, for plotting training curves.
/// </summary>
public sealed class History
{
    private readonly Dictionary<string, List<double>> _epochs = new()
    {
        ["loss"] = [], ["accuracy"] = [], ["val_loss"] = [], ["val_accuracy"] = [],
    };

    /// <summary>Per-epoch series by name (Keras's history.history). Validation series are empty without validation data.</summary>
    public IReadOnlyDictionary<string, List<double>> Epochs => _epochs;

    public List<double> Loss => _epochs["loss"];
    public List<double> Accuracy => _epochs["accuracy"];
    public List<double> ValLoss => _epochs["val_loss"];
    public List<double> ValAccuracy => _epochs["val_accuracy"];

    /// <summary>
    /// The learning rate of each epoch's last update, as Keras logs "learning_rate" (a schedule or
    /// <see cref="Callbacks.ReduceLROnPlateau"/> changes it between epochs).
    /// </summary>
    public List<double> LearningRate { get; } = [];

    /// <summary>Wall-clock seconds of each epoch's training steps (validation excluded).</summary>
    public List<double> EpochSeconds { get; } = [];

    /// <summary>Loss of each mini-batch, in order, across all epochs.</summary>
    public List<double> BatchLoss { get; } = [];

    /// <summary>Accuracy of each mini-batch, in order, across all epochs.</summary>
    public List<double> BatchAccuracy { get; } = [];

    /// <summary>Iterations (1-based, counted across epochs) at which validation figures were taken during an epoch (see <see cref="Callbacks.IterationValidation"/>).</summary>
    public List<double> ValIterations { get; } = [];
    public List<double> ValIterationLoss { get; } = [];
    public List<double> ValIterationAccuracy { get; } = [];

    /// <summary>Mini-batches per epoch.</summary>
    public int StepsPerEpoch { get; internal set; }

    /// <summary>
    /// Makes room for one more epoch of <paramref name="steps"/> batches, so that the steps inside it allocate nothing.
    /// Capacity at least doubles when it grows: a run of a million epochs takes memory as it goes, not up front.
    /// </summary>
    internal void GrowForEpoch(int steps)
    {
        BatchLoss.EnsureCapacity(BatchLoss.Count + steps);
        BatchAccuracy.EnsureCapacity(BatchAccuracy.Count + steps);
    }

    /// <summary>The per-epoch figures as CSV (epoch, loss, accuracy, val_loss, val_accuracy, seconds, learning_rate), as Keras's CSVLogger writes.</summary>
    public string EpochsToCsv()
    {
        var sb = new StringBuilder("epoch,loss,accuracy,val_loss,val_accuracy,seconds,learning_rate\n");
        for (int e = 0; e < Loss.Count; e++)
            sb.Append(CultureInfo.InvariantCulture, $"{e + 1},{Loss[e]:R},{Accuracy[e]:R},{At(ValLoss, e)},{At(ValAccuracy, e)},{At(EpochSeconds, e)},{At(LearningRate, e)}\n");
        return sb.ToString();
    }

    /// <summary>Per-iteration figures as CSV (iteration, epoch, loss, accuracy, val_loss, val_accuracy; validation where taken).</summary>
    public string IterationsToCsv()
    {
        var sb = new StringBuilder("iteration,epoch,loss,accuracy,val_loss,val_accuracy\n");
        int v = 0;
        for (int i = 0; i < BatchLoss.Count; i++)
        {
            int it = i + 1;
            string vl = "", va = "";
            if (v < ValIterations.Count && (int)ValIterations[v] == it) { vl = At(ValIterationLoss, v); va = At(ValIterationAccuracy, v); v++; }
            int epoch = StepsPerEpoch > 0 ? i / StepsPerEpoch + 1 : 1;
            sb.Append(CultureInfo.InvariantCulture, $"{it},{epoch},{BatchLoss[i]:R},{BatchAccuracy[i]:R},{vl},{va}\n");
        }
        return sb.ToString();
    }

    /// <summary>Rebuilds a history from the CSV files written by <see cref="EpochsToCsv"/> and (optionally) <see cref="IterationsToCsv"/>.</summary>
    public static History FromCsv(string epochsCsv, string? iterationsCsv = null, string source = "history.csv")
    {
        var h = new History();
        string[] columns = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"];
        // Files written before the learning rate was logged lack its column; both are read.
        if (epochsCsv.StartsWith(string.Join(',', columns) + ",learning_rate", StringComparison.Ordinal)) columns = [.. columns, "learning_rate"];
        var rows = ReadCsv(epochsCsv, source, columns);
        foreach (var r in rows)
        {
            if (r.Length > 6 && r[6] is double lr) h.LearningRate.Add(lr);
            h.Loss.Add(r[1]!.Value); h.Accuracy.Add(r[2]!.Value);
            if (r[3] is double vl) h.ValLoss.Add(vl);
            if (r[4] is double va) h.ValAccuracy.Add(va);
            if (r[5] is double sec) h.EpochSeconds.Add(sec);
        }
        if (iterationsCsv is not null)
        {
            foreach (var r in ReadCsv(iterationsCsv, source.Replace("history", "iterations"), ["iteration", "epoch", "loss", "accuracy", "val_loss", "val_accuracy"]))
            {
                h.BatchLoss.Add(r[2]!.Value); h.BatchAccuracy.Add(r[3]!.Value);
                if (r[4] is double vl) { h.ValIterations.Add(r[0]!.Value); h.ValIterationLoss.Add(vl); h.ValIterationAccuracy.Add(r[5] ?? double.NaN); }
            }
            if (h.Loss.Count > 0) h.StepsPerEpoch = h.BatchLoss.Count / h.Loss.Count;
        }
        return h;
    }

    private static List<double?[]> ReadCsv(string text, string source, string[] columns)
    {
        var lines = text.Replace("\r", "").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0 || lines[0] != string.Join(',', columns))
            throw new Data.InvalidDataFormatException($"{source}: line 1 should be the header \"{string.Join(',', columns)}\".");
        var result = new List<double?[]>();
        for (int i = 1; i < lines.Length; i++)
        {
            var cells = lines[i].Split(',');
            if (cells.Length != columns.Length) throw new Data.InvalidDataFormatException($"{source}: line {i + 1} has {cells.Length} fields; expected {columns.Length}.");
            var row = new double?[cells.Length];
            for (int j = 0; j < cells.Length; j++)
            {
                if (cells[j].Length == 0) { if (j <= 3 && columns[j] != "val_loss") throw new Data.InvalidDataFormatException($"{source}: line {i + 1}: {columns[j]} is empty."); continue; }
                if (!double.TryParse(cells[j], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                    throw new Data.InvalidDataFormatException($"{source}: line {i + 1}: {columns[j]} \"{cells[j]}\" is not a number.");
                row[j] = v;
            }
            result.Add(row);
        }
        return result;
    }

    private static string At(List<double> l, int i) => i < l.Count ? l[i].ToString("R", CultureInfo.InvariantCulture) : "";
}
