using System.Globalization;
using Dendrite.Callbacks;
using Dendrite.Models;
using Spectre.Console;

namespace Dendrite.Cli;

/// <summary>Keras-style progress on a terminal with Spectre.Console: one bar per epoch with ETA, loss and accuracy.</summary>
internal sealed class SpectreProgress(ProgressContext ctx) : Callback
{
    private ProgressTask? _task;
    private TrainingInfo? _info;

    public override void OnTrainBegin(Sequential model, TrainingInfo info) => _info = info;

    public override void OnEpochBegin(int epoch)
    {
        _task = ctx.AddTask($"Epoch {epoch}/{_info!.Epochs}", maxValue: _info.StepsPerEpoch);
    }

    public override void OnBatchEnd(int epoch, in BatchLogs logs)
    {
        if (logs.Step % 8 != 0 && logs.Step != logs.Steps) return;
        _task!.Value = logs.Step;
        _task.Description = string.Create(CultureInfo.InvariantCulture, $"Epoch {epoch}/{_info!.Epochs} loss {logs.MeanLoss:F4} acc {logs.MeanAccuracy:F4}");
    }

    public override void OnEpochEnd(EpochLogs logs)
    {
        _task!.Value = _task.MaxValue;
        string val = logs.HasValidation ? string.Create(CultureInfo.InvariantCulture, $" val_loss {logs.ValLoss:F4} val_acc {logs.ValAccuracy:F4}") : "";
        string resumed = logs.StepsRun > 0 && logs.StepsRun < _info!.StepsPerEpoch ? $" (resumed at step {logs.FirstStep}: {logs.StepsRun} steps)" : "";
        _task.Description = string.Create(CultureInfo.InvariantCulture, $"Epoch {logs.Epoch}/{_info!.Epochs}{resumed} {logs.Seconds:F1}s loss {logs.Loss:F4} acc {logs.Accuracy:F4}{val}");
        _task.StopTask();
    }
}
