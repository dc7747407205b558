using Dendrite.Models;

namespace Dendrite.Callbacks;

/// <summary>
/// Keras's LearningRateScheduler: at the start of every epoch, sets the optimizer's learning rate to
/// <c>schedule(epoch, lr)</c>, where epoch counts from 0 (as Keras) and lr is the current rate. For a rate that changes
/// every update, give the optimizer a <see cref="Optimizers.Optimizer.Schedule"/> instead; the two do not mix.
/// </summary>
public sealed class LearningRateScheduler(Func<int, float, float> schedule) : Callback
{
    private readonly Func<int, float, float> _schedule = schedule ?? throw new ArgumentNullException(nameof(schedule));
    private Sequential? _model;

    public override void OnTrainBegin(Sequential model, TrainingInfo info)
    {
        if (model.Optimizer?.Schedule is { } s)
            throw new InvalidOperationException($"LearningRateScheduler sets the learning rate, but this optimizer follows the schedule {s.Name}: use one or the other.");
        _model = model;
    }

    public override void OnEpochBegin(int epoch)
    {
        var opt = _model!.Optimizer!;
        float lr = _schedule(epoch - 1, opt.LearningRate);
        if (!(lr > 0) || !float.IsFinite(lr))
            throw new InvalidOperationException($"LearningRateScheduler: the schedule returned {lr} for epoch {epoch - 1}; a learning rate must be a positive finite number.");
        opt.LearningRate = lr;
    }
}
