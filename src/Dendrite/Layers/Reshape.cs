namespace Dendrite.Layers;

/// <summary>
/// Gives each item another shape with the same number of values (Keras's Reshape); one dimension may be -1.
/// <c>new Reshape([28, 28, 1])</c> turns 28×28 images into the (height, width, channels) items Conv2D takes. No copy.
/// </summary>
public sealed class Reshape : Layer
{
    public Reshape(int[] targetShape, int[]? inputShape = null, string? name = null) : base(name, inputShape)
    {
        ArgumentNullException.ThrowIfNull(targetShape);
        if (targetShape.Length == 0 || targetShape.Any(d => d == 0 || d < -1) || targetShape.Count(d => d == -1) > 1)
            throw new ArgumentException($"Invalid value received for argument `target_shape`. Expected positive dimensions, at most one of them -1. Received: target_shape={Tensor.ShapeToString(targetShape)}.", nameof(targetShape));
        TargetShape = (int[])targetShape.Clone();
    }

    public int[] TargetShape { get; }

    public override int[] ComputeOutputShape(int[] inputShape)
    {
        long size = Tensor.ProductOf(inputShape), known = 1;
        foreach (int d in TargetShape) if (d != -1) known *= d;
        if (TargetShape.Contains(-1))
        {
            if (size % known != 0) throw new ArgumentException($"Reshape layer `{Name}` cannot reshape items of shape {Tensor.ShapeToString(inputShape)} ({size} values) into {Tensor.ShapeToString(TargetShape)}.");
            return TargetShape.Select(d => d == -1 ? (int)(size / known) : d).ToArray();
        }
        if (known != size) throw new ArgumentException($"Reshape layer `{Name}` cannot reshape items of shape {Tensor.ShapeToString(inputShape)} ({size} values) into {Tensor.ShapeToString(TargetShape)} ({known} values).");
        return (int[])TargetShape.Clone();
    }

    public override Node Call(Node input, TrainingSwitch? training = null) => Ops.Reshape(input, [-1, .. OutputShape]);

    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?> { ["name"] = Name, ["target_shape"] = (int[])TargetShape.Clone() };
}
