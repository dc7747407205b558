namespace Dendrite;

// What a NumPy or Keras user reaches for first: items and ranges of items along the first axis, arithmetic with the
// graph's broadcasting rule, and a one-value tensor read as a float.
public sealed partial class Tensor
{
    /// <summary>
    /// Names of the classes this tensor's labels (class indices, or one-hot rows) refer to, when it came from a
    /// <see cref="Data.Dataset"/> (<c>LabelsAsTensor</c>, <c>OneHotLabels</c>, a batch's labels); null otherwise.
    /// <c>Fit</c> and <c>Evaluate</c> on tensors give them to the model, as <c>Fit</c> on the Dataset does. Views,
    /// reshapes and copies keep them; arithmetic does not.
    /// </summary>
    public string[]? ClassNames { get; set; }

    /// <summary>The number of items: the size of the first dimension (1 for a scalar, which is its own only item).</summary>
    public int Count => _shape.Length == 0 ? 1 : _shape[0];

    /// <summary>
    /// Item <paramref name="index"/> along the first axis, as a tensor of the remaining dimensions: for images of
    /// shape (60000, 28, 28), <c>x[0]</c> is the first image, shape (28, 28); for a vector, <c>x[0]</c> is its first
    /// element, a rank-0 tensor that reads as a float (<c>float v = x[0];</c>). A scalar is its own item 0.
    /// </summary>
    /// <remarks>
    /// The item is a view: it shares this tensor's storage, so writing to it writes here, and it sees later writes
    /// here. That is always safe for a tensor you made; for a graph node's <c>Value</c>, a view sees the next run's
    /// values, and after a run with a larger batch the node may have moved to new storage while the view keeps the
    /// old: <see cref="Clone"/> an item to keep it. Setting an item copies the given tensor in; its shape must be
    /// the item's (<c>Tensor.Scalar(v)</c> for an element of a vector, or write <c>x.Span[i] = v</c>). For element <c>i</c> in
    /// row-major order use <c>Span[i]</c>.
    /// </remarks>
    public Tensor this[int index]
    {
        get => ItemView(index);
        set => Assign(ItemView(index), value, $"item {index}");
    }

    /// <summary>Item <paramref name="index"/>, counted from the end with <c>^</c>: <c>x[^1]</c> is the last. A view, as <see cref="this[int]"/>.</summary>
    public Tensor this[Index index]
    {
        get => this[index.GetOffset(Count)];
        set => this[index.GetOffset(Count)] = value;
    }

    /// <summary>
    /// Items <paramref name="range"/> along the first axis: <c>x[10..20]</c> has shape (10, 28, 28) for MNIST images.
    /// Always a view (a run of whole items is contiguous in row-major storage), sharing storage as
    /// <see cref="this[int]"/> does; setting it copies a tensor of the same shape in.
    /// </summary>
    public Tensor this[Range range]
    {
        get => ItemsView(range);
        set => Assign(ItemsView(range), value, $"items {range}");
    }

    private Tensor ItemView(int index)
    {
        if (_shape.Length == 0)
        {
            if (index != 0) throw new IndexOutOfRangeException($"Index {index} is outside a scalar, which has only item 0 (itself).");
            return this;
        }
        if ((uint)index >= (uint)_shape[0])
            throw new IndexOutOfRangeException(index < 0
                ? $"Index {index}: count from the end with ^ (x[^1] is the last item); this tensor has shape {ShapeToString(_shape)}."
                : $"Index {index} is outside the first dimension of shape {ShapeToString(_shape)}.");
        int size = _shape[0] == 0 ? 0 : Length / _shape[0];
        return new Tensor(_data, _offset + index * size, _shape[1..]) { ClassNames = ClassNames };
    }

    private Tensor ItemsView(Range range)
    {
        if (_shape.Length == 0) throw new InvalidOperationException("A scalar has no items to take a range of.");
        int count = _shape[0];
        int start = range.Start.GetOffset(count), end = range.End.GetOffset(count);
        if (start < 0 || end > count || start > end)
            throw new ArgumentOutOfRangeException(nameof(range), $"Items {range} are outside the first dimension of shape {ShapeToString(_shape)}.");
        int size = count == 0 ? 0 : Length / count;
        int[] shape = [.. _shape];
        shape[0] = end - start;
        return new Tensor(_data, _offset + start * size, shape) { ClassNames = ClassNames };
    }

    private static void Assign(Tensor target, Tensor value, string what)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!value.ShapeSpan.SequenceEqual(target.ShapeSpan))
            throw new ArgumentException(value.Rank == 0 && target.Rank > 0
                ? $"Cannot set {what}, of shape {ShapeToString(target.ShapeSpan)}, to one value: fill it with x[i].Fill(value), or set one element with Span[i] or [i, j]."
                : $"Cannot set {what}, of shape {ShapeToString(target.ShapeSpan)}, from a tensor of shape {ShapeToString(value.ShapeSpan)}: the shapes must match.");
        value.Span.CopyTo(target.Span);
    }

    /// <summary>
    /// The one value of a tensor that holds one (a rank-0 loss or mean, <c>x[i]</c> of a vector): <c>float loss = lossNode.Evaluate();</c>
    /// (There is no conversion the other way: with both, <c>x * 2</c> would be ambiguous. Write <c>Tensor.Scalar(v)</c>.)
    /// </summary>
    /// <exception cref="InvalidCastException">The tensor holds more or fewer than one value.</exception>
    public static implicit operator float(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.Length != 1)
            throw new InvalidCastException($"A tensor of shape {ShapeToString(t.ShapeSpan)} holds {t.Length} values, not one: it cannot be read as a float. (x[i] is item i along the first axis; element i in row-major order is x.Span[i].)");
        return t.Span[0];
    }

    /// <summary>
    /// Elementwise a + b with the graph's broadcasting rule (<see cref="Ops.Add"/>): the operands have the same shape,
    /// or one is a scalar, or one's shape is the other's trailing dimensions (a bias row repeated over a batch). A new tensor.
    /// </summary>
    public static Tensor operator +(Tensor a, Tensor b) => Combine(BinaryOp.Kinds.Add, a, b);

    /// <summary>Elementwise a − b (either side may be the smaller, as for +). A new tensor.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Combine(BinaryOp.Kinds.Subtract, a, b);

    /// <summary>Elementwise a · b (either side may be the smaller, as for +). A new tensor.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Combine(BinaryOp.Kinds.Multiply, a, b);

    /// <summary>Elementwise a / b, IEEE division (x / 0 is ±∞ or NaN). Either side may be the smaller, as for +. A new tensor.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Combine(BinaryOp.Kinds.Divide, a, b);

    public static Tensor operator +(Tensor a, float s) => Combine(BinaryOp.Kinds.Add, a, Scalar(s));
    public static Tensor operator -(Tensor a, float s) => Combine(BinaryOp.Kinds.Subtract, a, Scalar(s));
    public static Tensor operator *(Tensor a, float s) => Combine(BinaryOp.Kinds.Multiply, a, Scalar(s));

    /// <summary>Each element divided by <paramref name="s"/> (true division: <c>x / 255f</c> scales pixels to [0, 1]).</summary>
    public static Tensor operator /(Tensor a, float s) => Combine(BinaryOp.Kinds.Divide, a, Scalar(s));

    public static Tensor operator +(float s, Tensor a) => Combine(BinaryOp.Kinds.Add, Scalar(s), a);
    public static Tensor operator -(float s, Tensor a) => Combine(BinaryOp.Kinds.Subtract, Scalar(s), a);
    public static Tensor operator *(float s, Tensor a) => Combine(BinaryOp.Kinds.Multiply, Scalar(s), a);
    public static Tensor operator /(float s, Tensor a) => Combine(BinaryOp.Kinds.Divide, Scalar(s), a);

    public static Tensor operator -(Tensor a) => Combine(BinaryOp.Kinds.Multiply, a, Scalar(-1f));

    /// <summary>a ∘ b into a new tensor of the larger operand's shape, by the kernel the graph's BinaryOp runs.</summary>
    private static Tensor Combine(BinaryOp.Kinds kind, Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        bool aLarger = Ops.Broadcasts(a.ShapeSpan, b.ShapeSpan);
        if (!aLarger && !Ops.Broadcasts(b.ShapeSpan, a.ShapeSpan))
            throw new ArgumentException($"Cannot {kind.ToString().ToLowerInvariant()} tensors of shapes {ShapeToString(a.ShapeSpan)} and {ShapeToString(b.ShapeSpan)}: they must match, or one must be a scalar or the other's trailing dimensions.");
        var (large, small) = aLarger ? (a, b) : (b, a);
        var result = new Tensor(large._shape);
        BinaryOp.Compute(kind, large.Span, small.Span, result.Span, smallFirst: !aLarger);
        return result;
    }
}
