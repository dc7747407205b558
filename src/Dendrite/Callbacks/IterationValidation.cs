using Dendrite.Data;
using Dendrite.Models;

namespace Dendrite.Callbacks;

/// <summary>
/// Measures loss and accuracy on validation data every <paramref name="every"/> iterations (on up to
/// <paramref name="maxSamples"/> of it), so training and test curves can be plotted per iteration as the
/// TensorFlow tutorial does. Results go to <see cref="History.ValIterations"/> and its companions.
/// </summary>
public sealed class IterationValidation(Dataset data, int every, int maxSamples = 2000) : Callback
{
    private readonly Dataset _data = data.Count > maxSamples ? data.Take(maxSamples) : data;
    private Sequential? _model;
    private int _iteration;

    public int Every { get; } = every > 0 ? every : throw new ArgumentOutOfRangeException(nameof(every), every, "Expected a positive number of iterations.");

    public override void OnTrainBegin(Sequential model, TrainingInfo info)
    {
        _model = model;
        _iteration = model.TrainingState!.History.BatchLoss.Count;
    }

    public override void OnBatchEnd(int epoch, in BatchLogs logs)
    {
        _iteration++;
        if (_iteration % Every != 0 && logs.Step != logs.Steps) return;
        var e = _model!.Evaluate(_data);
        var h = _model.TrainingState!.History;
        h.ValIterations.Add(_iteration);
        h.ValIterationLoss.Add(e.Loss);
        h.ValIterationAccuracy.Add(e.Accuracy);
    }
}

/// <summary>Keras's CSVLogger: rewrites the per-epoch CSV (and, when given, the per-iteration CSV) after every epoch.</summary>
public sealed class CsvLogger(string epochsPath, string? iterationsPath = null) : Callback
{
    private Sequential? _model;

    public override void OnTrainBegin(Sequential model, TrainingInfo info) => _model = model;

    public override void OnEpochEnd(EpochLogs logs) => Write(_model!.TrainingState!.History);

    public override void OnTrainEnd(History history) => Write(history);

    private void Write(History h)
    {
        Serialization.AtomicFile.Write(epochsPath, s => s.Write(System.Text.Encoding.UTF8.GetBytes(h.EpochsToCsv())));
        if (iterationsPath is not null) Serialization.AtomicFile.Write(iterationsPath, s => s.Write(System.Text.Encoding.UTF8.GetBytes(h.IterationsToCsv())));
    }
}
