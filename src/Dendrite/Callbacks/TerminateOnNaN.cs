using Dendrite.Models;

namespace Dendrite.Callbacks;

/// <summary>
/// Keras's TerminateOnNaN: when a batch's loss is NaN or infinite, training stops and <c>Fit</c> returns its
/// <see cref="History"/> as it stands (the batch that diverged is not in it). Without this callback <c>Fit</c> does
/// the stricter thing: it throws <see cref="TrainingDivergedException"/>, which carries the same History and names the
/// epoch, batch and learning rate. Either way no step runs after the loss stops being finite.
/// </summary>
public sealed class TerminateOnNaN : Callback
{
    /// <summary>Where training stopped, as "epoch E, batch B: the loss became NaN"; null when it did not.</summary>
    public string? Terminated { get; private set; }

    public override void OnTrainBegin(Sequential model, TrainingInfo info) => Terminated = null;

    internal void Stop(int epoch, int batch, double loss) => Terminated = $"epoch {epoch}, batch {batch}: the loss became {loss}";
}
