using System.Diagnostics;
using System.Globalization;
using Dendrite.Models;

namespace Dendrite.Callbacks;

/// <summary>What a training run will do, given to callbacks when it starts.</summary>
public sealed record TrainingInfo(int Epochs, int StepsPerEpoch, int Samples, int BatchSize, int ValidationSamples);

/// <summary>One mini-batch's figures: its own loss and accuracy, and the running means over the epoch so far.</summary>
public readonly record struct BatchLogs(int Step, int Steps, double Loss, double Accuracy, double MeanLoss, double MeanAccuracy);

/// <summary>One epoch's figures. Validation figures are NaN when there is no validation data.</summary>
public sealed record EpochLogs(int Epoch, double Loss, double Accuracy, double ValLoss, double ValAccuracy, double Seconds)
{
    /// <summary>
    /// The steps this run took in the epoch: all of them, except in the first epoch of a resumed run, which starts
    /// where the checkpoint stopped (<see cref="Seconds"/> then times those steps only). 0 when not given: all.
    /// </summary>
    public int StepsRun { get; init; }

    /// <summary>The step the epoch started from in this run: 0, or where a resumed checkpoint stopped.</summary>
    public int FirstStep { get; init; }

    public bool HasValidation => !double.IsNaN(ValLoss);
}

/// <summary>Hooks into <see cref="Sequential.Fit(Tensor, Tensor, int, int, int, float, ValueTuple{Tensor, Tensor}?, bool, ulong?, IEnumerable{Callback}?)"/>, as Keras's callbacks. Set <see cref="Sequential.StopTraining"/> to end a run early.</summary>
public abstract class Callback
{
    public virtual void OnTrainBegin(Sequential model, TrainingInfo info) { }
    public virtual void OnEpochBegin(int epoch) { }
    public virtual void OnBatchEnd(int epoch, in BatchLogs logs) { }
    public virtual void OnEpochEnd(EpochLogs logs) { }
    public virtual void OnTrainEnd(History history) { }
}

/// <summary>
/// Keras's progress output: "Epoch 1/5", then a bar with the step count, ETA, loss and accuracy,
/// redrawn in place on a terminal and written once per epoch otherwise.
/// </summary>
public sealed class ConsoleProgress(TextWriter? writer = null) : Callback
{
    private readonly TextWriter _out = writer ?? Console.Out;
    private readonly bool _live = writer is null && !Console.IsOutputRedirected;
    private readonly Stopwatch _clock = new();
    private TrainingInfo? _info;
    private long _lastDraw;
    private int _firstStep = -1;

    public override void OnTrainBegin(Sequential model, TrainingInfo info) => _info = info;

    public override void OnEpochBegin(int epoch)
    {
        _out.WriteLine($"Epoch {epoch}/{_info!.Epochs}");
        _clock.Restart();
        _lastDraw = 0;
        _firstStep = -1;
    }

    public override void OnBatchEnd(int epoch, in BatchLogs logs)
    {
        if (_firstStep < 0) _firstStep = logs.Step - 1;   // 0, or where a resumed run starts in its first epoch
        if (!_live || _clock.ElapsedMilliseconds - _lastDraw < 100) return;
        _lastDraw = _clock.ElapsedMilliseconds;
        double perStep = _clock.Elapsed.TotalSeconds / Math.Max(1, logs.Step - _firstStep);
        _out.Write($"\r{Bar(logs.Step, logs.Steps)} - ETA: {Duration(perStep * (logs.Steps - logs.Step))} - loss: {logs.MeanLoss:F4} - accuracy: {logs.MeanAccuracy:F4}");
    }

    public override void OnEpochEnd(EpochLogs logs)
    {
        int steps = _info!.StepsPerEpoch, ran = logs.StepsRun > 0 ? logs.StepsRun : steps;
        string resumed = ran < steps ? $" (resumed at step {logs.FirstStep}: {ran} steps run)" : "";
        string line = $"{Bar(steps, steps)}{resumed} - {Duration(logs.Seconds)} {PerStep(logs.Seconds / Math.Max(1, ran))} - loss: {logs.Loss:F4} - accuracy: {logs.Accuracy:F4}";
        if (logs.HasValidation) line += $" - val_loss: {logs.ValLoss:F4} - val_accuracy: {logs.ValAccuracy:F4}";
        _out.Write(_live ? "\r" + line + "\x1b[K\n" : line + "\n");
    }

    internal static string Bar(int step, int steps)
    {
        const int width = 30;
        int filled = steps == 0 ? width : (int)((long)width * step / steps);
        string bar = filled >= width ? new string('=', width) : new string('=', filled) + ">" + new string('.', width - filled - 1);
        string count = step.ToString(CultureInfo.InvariantCulture).PadLeft(steps.ToString(CultureInfo.InvariantCulture).Length);
        return $"{count}/{steps} [{bar}]";
    }

    internal static string PerStep(double seconds) => seconds >= 1e-3 ? $"{seconds * 1e3:F0}ms/step" : $"{seconds * 1e6:F0}us/step";

    internal static string Duration(double seconds) =>
        seconds >= 3600 ? $"{(int)(seconds / 3600)}:{(int)(seconds % 3600 / 60):D2}:{(int)(seconds % 60):D2}"
        : seconds >= 60 ? $"{(int)(seconds / 60)}:{(int)(seconds % 60):D2}"
        : $"{seconds:F0}s";
}
