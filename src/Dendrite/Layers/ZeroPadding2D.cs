namespace Dendrite.Layers;

/// <summary>
/// Adds rows and columns of zeros around channels-last images, as Keras's ZeroPadding2D: items (height, width, channels)
/// become (top + height + bottom, left + width + right, channels). Imported models use it for padding that Keras's
/// "same" does not give (PyTorch's padding=2 on a 5×5 convolution with stride 2, for example).
/// </summary>
public sealed class ZeroPadding2D : Layer
{
    public ZeroPadding2D(((int Top, int Bottom) Rows, (int Left, int Right) Columns) padding, int[]? inputShape = null, string? name = null) : base(name, inputShape)
    {
        var (rows, cols) = padding;
        if (rows.Top < 0 || rows.Bottom < 0 || cols.Left < 0 || cols.Right < 0)
            throw new ArgumentOutOfRangeException(nameof(padding), padding, $"Invalid value received for argument `padding`. Expected non-negative integers. Received: padding={padding}.");
        Top = rows.Top; Bottom = rows.Bottom; Left = cols.Left; Right = cols.Right;
    }

    /// <summary>The same padding on every side, as Keras's ZeroPadding2D(padding=1).</summary>
    public ZeroPadding2D(int padding = 1, int[]? inputShape = null, string? name = null) : this(((padding, padding), (padding, padding)), inputShape, name) { }

    public int Top { get; }
    public int Bottom { get; }
    public int Left { get; }
    public int Right { get; }

    public override int[] ComputeOutputShape(int[] inputShape)
    {
        if (inputShape.Length != 3) throw new ArgumentException($"ZeroPadding2D layer `{Name}` takes images of shape (height, width, channels), but its input items have shape {Tensor.ShapeToString(inputShape)}.");
        return [inputShape[0] + Top + Bottom, inputShape[1] + Left + Right, inputShape[2]];
    }

    public override Node Call(Node input, TrainingSwitch? training = null) => Ops.ZeroPad2D(input, Top, Bottom, Left, Right);

    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>
    {
        ["name"] = Name,
        ["padding"] = new[] { Top, Bottom, Left, Right },
    };
}
