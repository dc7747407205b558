using Dendrite.Models;

namespace Dendrite.Callbacks;

/// <summary>
/// Keras's EarlyStopping: stops training once the monitored figure has not improved by more than
/// <see cref="MinDelta"/> for <see cref="Patience"/> epochs in a row. With <see cref="RestoreBestWeights"/> the model
/// ends with the weights of its best epoch (as Keras 3, whether or not the run stopped early). With a
/// <see cref="Baseline"/>, epochs that do not beat it count against the patience even when they improve.
/// Select on held-out data (val_loss, the default), never on the test set.
/// </summary>
public sealed class EarlyStopping : Callback
{
    private readonly Monitor _monitor;
    private Sequential? _model;
    private Tensor[]? _bestWeights;
    private int _wait;

    public EarlyStopping(string monitor = "val_loss", float minDelta = 0f, int patience = 0, string mode = "auto", double? baseline = null, bool restoreBestWeights = false, int startFromEpoch = 0)
    {
        _monitor = new Monitor(monitor, mode);
        MinDelta = Math.Abs(minDelta);
        Patience = patience >= 0 ? patience : throw new ArgumentOutOfRangeException(nameof(patience), patience, $"Invalid value received for argument `patience`. Expected a non-negative integer. Received: patience={patience}.");
        Baseline = baseline;
        RestoreBestWeights = restoreBestWeights;
        StartFromEpoch = startFromEpoch >= 0 ? startFromEpoch : throw new ArgumentOutOfRangeException(nameof(startFromEpoch), startFromEpoch, $"Invalid value received for argument `start_from_epoch`. Expected a non-negative integer. Received: start_from_epoch={startFromEpoch}.");
    }

    public string Monitor => _monitor.Name;
    public float MinDelta { get; }
    public int Patience { get; }
    public double? Baseline { get; }
    public bool RestoreBestWeights { get; }
    public int StartFromEpoch { get; }

    /// <summary>The best monitored value so far.</summary>
    public double Best { get; private set; }

    /// <summary>The epoch (1-based) of <see cref="Best"/>; 0 before any.</summary>
    public int BestEpoch { get; private set; }

    /// <summary>The epoch (1-based) at which training was stopped; 0 when it ran to the end.</summary>
    public int StoppedEpoch { get; private set; }

    public override void OnTrainBegin(Sequential model, TrainingInfo info)
    {
        _model = model;
        _wait = 0; _bestWeights = null;
        Best = _monitor.Worst; BestEpoch = 0; StoppedEpoch = 0;
    }

    public override void OnEpochEnd(EpochLogs logs)
    {
        double current = _monitor.Of(logs, nameof(EarlyStopping));
        if (logs.Epoch <= StartFromEpoch) return;
        if (RestoreBestWeights && _bestWeights is null) _bestWeights = _model!.GetWeights();
        _wait++;
        if (_monitor.Improves(current, Best, MinDelta))
        {
            Best = current; BestEpoch = logs.Epoch;
            if (RestoreBestWeights) _bestWeights = _model!.GetWeights();
            if (Baseline is not double b || _monitor.Improves(current, b, MinDelta)) _wait = 0;
            return;
        }
        if (_wait >= Patience && logs.Epoch > 1)
        {
            StoppedEpoch = logs.Epoch;
            _model!.StopTraining = true;
        }
    }

    public override void OnTrainEnd(History history)
    {
        if (RestoreBestWeights && _bestWeights is not null) _model!.SetWeights(_bestWeights);
    }
}
