using Dendrite.Models;

namespace Dendrite.Callbacks;

/// <summary>
/// Keras's ModelCheckpoint: after each epoch, saves the model when the monitored figure (val_loss, val_accuracy,
/// loss or accuracy) is the best so far, or every epoch when <paramref name="saveBestOnly"/> is false. With
/// <paramref name="resumable"/> it writes a full checkpoint (optimizer state and training position) that
/// <c>Fit(..., resumeFrom:)</c> continues exactly. Every save is atomic. A run that has diverged (see
/// <see cref="Divergence"/>: its loss far above where it started, or its training accuracy at chance) does not replace
/// a file that is there already, unless <paramref name="overwriteDiverged"/>; <see cref="Skipped"/> says why it did not.
/// </summary>
public sealed class ModelCheckpoint(string path, string monitor = "val_loss", bool saveBestOnly = true, bool resumable = false, bool overwriteDiverged = false) : Callback
{
    private static readonly string[] Known = ["loss", "accuracy", "val_loss", "val_accuracy"];
    private Sequential? _model;
    private double _best = double.NaN;

    public string Path { get; } = path ?? throw new ArgumentNullException(nameof(path));
    public string Monitor { get; } = Known.Contains(monitor) ? monitor : throw new ArgumentException($"Invalid value received for argument `monitor`. Expected one of {string.Join(", ", Known)}. Received: monitor={monitor}.");

    /// <summary>The best monitored value seen so far (NaN before the first save).</summary>
    public double Best => _best;

    /// <summary>The epoch whose model is in the file (0 when nothing was saved).</summary>
    public int SavedEpoch { get; private set; }

    /// <summary>Why the last epoch that should have saved did not (a diverged run and a file already there), or null.</summary>
    public string? Skipped { get; private set; }

    public override void OnTrainBegin(Sequential model, TrainingInfo info) => _model = model;

    public override void OnEpochEnd(EpochLogs logs)
    {
        double value = Monitor switch
        {
            "loss" => logs.Loss,
            "accuracy" => logs.Accuracy,
            "val_loss" => logs.ValLoss,
            _ => logs.ValAccuracy,
        };
        if (double.IsNaN(value))
            throw new InvalidOperationException($"ModelCheckpoint monitors {Monitor}, which this run does not produce: give Fit validation data or monitor loss.");
        bool higherIsBetter = Monitor.EndsWith("accuracy", StringComparison.Ordinal);
        bool better = double.IsNaN(_best) || (higherIsBetter ? value > _best : value < _best);
        if (saveBestOnly && !better) return;
        int classes = _model!.OutputShape.Length == 1 ? _model.OutputShape[0] : 0;
        if (!overwriteDiverged && File.Exists(Path)
            && Divergence.Check(_model.TrainingState!.History, logs.Accuracy, classes > 1 ? 1.0 / classes : null, "training accuracy") is { } why)
        {
            Skipped = $"epoch {logs.Epoch}: {why}; {Path} was kept";
            return;
        }
        Skipped = null;
        if (better) _best = value;
        if (resumable) _model!.SaveCheckpoint(Path);
        else _model!.Save(Path);
        SavedEpoch = logs.Epoch;
    }
}
