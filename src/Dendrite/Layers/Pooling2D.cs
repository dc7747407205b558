namespace Dendrite.Layers;

/// <summary>Max or average pooling over channels-last images: the shared settings of Keras's MaxPooling2D and AveragePooling2D.</summary>
public abstract class Pooling2D : Layer
{
    private protected Pooling2D(Size2D poolSize, Size2D? strides, string padding, int[]? inputShape, string? name) : base(name, inputShape)
    {
        if (poolSize.Height <= 0 || poolSize.Width <= 0) throw new ArgumentOutOfRangeException(nameof(poolSize), poolSize, $"Invalid value received for argument `pool_size`. Expected positive integers. Received: pool_size={poolSize}.");
        var s = strides ?? poolSize;
        if (s.Height <= 0 || s.Width <= 0) throw new ArgumentOutOfRangeException(nameof(strides), s, $"Invalid value received for argument `strides`. Expected positive integers. Received: strides={s}.");
        PoolSize = poolSize;
        Strides = s;
        Padding = ParsePadding(padding);
    }

    public Size2D PoolSize { get; }
    /// <summary>The step between windows; the pool size unless given (Keras's default).</summary>
    public Size2D Strides { get; }
    public Padding Padding { get; }

    public override int[] ComputeOutputShape(int[] inputShape)
    {
        if (inputShape.Length != 3)
            throw new ArgumentException($"{GetType().Name} layer `{Name}` takes images of shape (height, width, channels), but its input items have shape {Tensor.ShapeToString(inputShape)}." +
                (inputShape.Length == 2 ? $" Add a channel axis first: new Reshape([{inputShape[0]}, {inputShape[1]}, 1])." : ""));
        var g = Window2D.Create(inputShape[0], inputShape[1], inputShape[2], PoolSize, Strides, Padding, $"{GetType().Name} layer `{Name}`");
        return [g.OH, g.OW, inputShape[2]];
    }

    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>
    {
        ["name"] = Name, ["pool_size"] = new[] { PoolSize.Height, PoolSize.Width },
        ["strides"] = new[] { Strides.Height, Strides.Width }, ["padding"] = PaddingName(Padding),
    };

    internal static Padding ParsePadding(string padding) => padding?.ToLowerInvariant() switch
    {
        "valid" => Padding.Valid,
        "same" => Padding.Same,
        _ => throw new ArgumentException($"Invalid value received for argument `padding`. Expected \"valid\" or \"same\". Received: padding={padding}.", nameof(padding)),
    };

    internal static string PaddingName(Padding p) => p == Padding.Same ? "same" : "valid";
}

/// <summary>The largest value of each window, per channel (Keras's MaxPooling2D; pool size 2 by default).</summary>
public sealed class MaxPooling2D(Size2D? poolSize = null, Size2D? strides = null, string padding = "valid", int[]? inputShape = null, string? name = null)
    : Pooling2D(poolSize ?? 2, strides, padding, inputShape, name)
{
    public override Node Call(Node input, TrainingSwitch? training = null) => Ops.MaxPool2D(input, PoolSize, Strides, Padding);
}

/// <summary>The mean of each window, per channel (Keras's AveragePooling2D; pool size 2 by default).</summary>
public sealed class AveragePooling2D(Size2D? poolSize = null, Size2D? strides = null, string padding = "valid", int[]? inputShape = null, string? name = null)
    : Pooling2D(poolSize ?? 2, strides, padding, inputShape, name)
{
    public override Node Call(Node input, TrainingSwitch? training = null) => Ops.AveragePool2D(input, PoolSize, Strides, Padding);
}

/// <summary>The mean of each channel over the whole image: (height, width, channels) → (channels) (Keras's GlobalAveragePooling2D).</summary>
public sealed class GlobalAveragePooling2D(int[]? inputShape = null, string? name = null) : Layer(name, inputShape)
{
    public override int[] ComputeOutputShape(int[] inputShape)
    {
        if (inputShape.Length != 3)
            throw new ArgumentException($"GlobalAveragePooling2D layer `{Name}` takes images of shape (height, width, channels), but its input items have shape {Tensor.ShapeToString(inputShape)}.");
        return [inputShape[2]];
    }

    public override Node Call(Node input, TrainingSwitch? training = null) => Ops.GlobalAveragePool2D(input);

    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?> { ["name"] = Name };
}
