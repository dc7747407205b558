using Dendrite.Models;

namespace Dendrite.Callbacks;

/// <summary>
/// Keras's ReduceLROnPlateau: multiplies the optimizer's learning rate by <see cref="Factor"/> (not below
/// <see cref="MinLr"/>) once the monitored figure has not improved by more than <see cref="MinDelta"/> for
/// <see cref="Patience"/> epochs, then waits <see cref="Cooldown"/> epochs before counting again. It cannot be used
/// with an optimizer that follows a <see cref="Optimizers.Optimizer.Schedule"/> (Keras refuses that too).
/// </summary>
public sealed class ReduceLROnPlateau : Callback
{
    private readonly Monitor _monitor;
    private Sequential? _model;
    private int _wait, _cooldownCounter;

    public ReduceLROnPlateau(string monitor = "val_loss", float factor = 0.1f, int patience = 10, string mode = "auto", float minDelta = 1e-4f, int cooldown = 0, float minLr = 0f)
    {
        _monitor = new Monitor(monitor, mode);
        Factor = factor > 0 && factor < 1 ? factor : throw new ArgumentOutOfRangeException(nameof(factor), factor, $"ReduceLROnPlateau does not support a factor >= 1.0 (or <= 0). Received: factor={factor}.");
        Patience = patience >= 0 ? patience : throw new ArgumentOutOfRangeException(nameof(patience), patience, $"Invalid value received for argument `patience`. Expected a non-negative integer. Received: patience={patience}.");
        MinDelta = minDelta;
        Cooldown = cooldown >= 0 ? cooldown : throw new ArgumentOutOfRangeException(nameof(cooldown), cooldown, $"Invalid value received for argument `cooldown`. Expected a non-negative integer. Received: cooldown={cooldown}.");
        MinLr = minLr >= 0 && float.IsFinite(minLr) ? minLr : throw new ArgumentOutOfRangeException(nameof(minLr), minLr, $"Invalid value received for argument `min_lr`. Expected a non-negative number. Received: min_lr={minLr}.");
    }

    public string Monitor => _monitor.Name;
    public float Factor { get; }
    public int Patience { get; }
    public float MinDelta { get; }
    public int Cooldown { get; }
    public float MinLr { get; }

    /// <summary>The best monitored value so far.</summary>
    public double Best { get; private set; }

    /// <summary>The epochs (1-based) after which the learning rate was reduced.</summary>
    public List<int> Reductions { get; } = [];

    public override void OnTrainBegin(Sequential model, TrainingInfo info)
    {
        if (model.Optimizer?.Schedule is { } s)
            throw new InvalidOperationException($"ReduceLROnPlateau changes the learning rate, but this optimizer follows the schedule {s.Name}: use one or the other.");
        _model = model;
        _wait = _cooldownCounter = 0;
        Best = _monitor.Worst;
        Reductions.Clear();
    }

    public override void OnEpochEnd(EpochLogs logs)
    {
        double current = _monitor.Of(logs, nameof(ReduceLROnPlateau));
        bool inCooldown = _cooldownCounter > 0;
        if (inCooldown) { _cooldownCounter--; _wait = 0; }
        if (_monitor.Improves(current, Best, MinDelta)) { Best = current; _wait = 0; return; }
        if (inCooldown) return;
        if (++_wait < Patience) return;
        var opt = _model!.Optimizer!;
        if (opt.LearningRate > MinLr)
        {
            opt.LearningRate = Math.Max(opt.LearningRate * Factor, MinLr);
            Reductions.Add(logs.Epoch);
            _cooldownCounter = Cooldown;
            _wait = 0;
        }
    }
}
