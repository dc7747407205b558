namespace Dendrite.Callbacks;

/// <summary>The epoch figure a callback watches (Keras's monitor) and which way is better (Keras's mode).</summary>
internal readonly struct Monitor
{
    public static readonly string[] Known = ["loss", "accuracy", "val_loss", "val_accuracy"];

    public Monitor(string name, string mode)
    {
        Name = Known.Contains(name) ? name : throw new ArgumentException($"Invalid value received for argument `monitor`. Expected one of {string.Join(", ", Known)}. Received: monitor={name}.");
        HigherIsBetter = mode switch
        {
            "auto" => name.EndsWith("accuracy", StringComparison.Ordinal),
            "min" => false,
            "max" => true,
            _ => throw new ArgumentException($"Invalid value received for argument `mode`. Expected one of auto, min, max. Received: mode={mode}."),
        };
    }

    public string Name { get; }
    public bool HigherIsBetter { get; }

    /// <summary>The worst possible value, to start from.</summary>
    public double Worst => HigherIsBetter ? double.NegativeInfinity : double.PositiveInfinity;

    /// <summary>The monitored figure of <paramref name="logs"/>; an error naming the way out when the run does not produce it.</summary>
    public double Of(EpochLogs logs, string callback)
    {
        double value = Name switch { "loss" => logs.Loss, "accuracy" => logs.Accuracy, "val_loss" => logs.ValLoss, _ => logs.ValAccuracy };
        if (double.IsNaN(value))
            throw new InvalidOperationException($"{callback} monitors {Name}, which this run does not produce: give Fit validation data (validationSplit or validationData) or monitor {Name[4..]}.");
        return value;
    }

    /// <summary>True when <paramref name="value"/> beats <paramref name="reference"/> by more than <paramref name="minDelta"/>.</summary>
    public bool Improves(double value, double reference, double minDelta) =>
        HigherIsBetter ? value - minDelta > reference : value + minDelta < reference;
}
