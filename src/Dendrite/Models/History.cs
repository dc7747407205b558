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

    /// <summary>Wall-clock seconds of each epoch's training steps (validation excluded).</summary>
    public List<double> EpochSeconds { get; } = [];

    /// <summary>Loss of each mini-batch, in order, across all epochs.</summary>
    public List<double> BatchLoss { get; } = [];

    /// <summary>Accuracy of each mini-batch, in order, across all epochs.</summary>
    public List<double> BatchAccuracy { get; } = [];

    /// <summary>Mini-batches per epoch.</summary>
    public int StepsPerEpoch { get; internal set; }

    internal void Reserve(int iterations, int epochs)
    {
        BatchLoss.Capacity = Math.Max(BatchLoss.Capacity, BatchLoss.Count + iterations);
        BatchAccuracy.Capacity = Math.Max(BatchAccuracy.Capacity, BatchAccuracy.Count + iterations);
        foreach (var l in _epochs.Values) l.Capacity = Math.Max(l.Capacity, l.Count + epochs);
    }

    /// <summary>The per-epoch figures as CSV (epoch, loss, accuracy, val_loss, val_accuracy, seconds), as Keras's CSVLogger writes.</summary>
    public string EpochsToCsv()
    {
        var sb = new StringBuilder("epoch,loss,accuracy,val_loss,val_accuracy,seconds\n");
        for (int e = 0; e < Loss.Count; e++)
            sb.Append(CultureInfo.InvariantCulture, $"{e + 1},{Loss[e]:R},{Accuracy[e]:R},{At(ValLoss, e)},{At(ValAccuracy, e)},{At(EpochSeconds, e)}\n");
        return sb.ToString();
    }

    private static string At(List<double> l, int i) => i < l.Count ? l[i].ToString("R", CultureInfo.InvariantCulture) : "";
}
