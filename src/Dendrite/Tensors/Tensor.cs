using System.Globalization;
using System.Text;

namespace Dendrite;

/// <summary>
/// A dense float32 tensor, row-major. The storage array may be longer than the tensor
/// (a tensor whose batch dimension shrank keeps its storage so that later, larger batches
/// need no new allocation), and a view (<c>x[3]</c>, <c>x[10..20]</c>) starts part-way into another
/// tensor's storage; <see cref="Span"/> is always exactly this tensor's <see cref="Length"/> elements.
/// Arithmetic, item indexing and conversions are in TensorMath.cs.
/// </summary>
public sealed partial class Tensor : IFormattable
{
    private float[] _data;
    private int _offset;
    private int[] _shape;     // never changed in place (Shape wraps it), only replaced

    /// <summary>A zero-filled tensor of the given shape.</summary>
    public Tensor(params int[] shape)
    {
        _shape = CheckShape(shape);
        _data = new float[ProductOf(_shape)];
        Length = _data.Length;
    }

    /// <summary>A tensor over existing data (not copied). <paramref name="data"/> must hold at least the shape's element count.</summary>
    public Tensor(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        _shape = CheckShape(shape);
        Length = ProductOf(_shape);
        if (data.Length < Length)
            throw new ArgumentException($"Invalid value received for argument `data`. Expected at least {Length} elements for shape {ShapeToString(_shape)}. Received: {data.Length}.", nameof(data));
        _data = data;
    }

    /// <summary>A view: <paramref name="shape"/> (already checked, not copied) over <paramref name="data"/> from <paramref name="offset"/>.</summary>
    private Tensor(float[] data, int offset, int[] shape)
    {
        _data = data;
        _offset = offset;
        _shape = shape;
        Length = ProductOf(shape);
    }

    /// <summary>The number of elements.</summary>
    public int Length { get; private set; }

    /// <summary>The dimensions, printed as (60000, 28, 28). It converts to int[] (a copy: changing that does not change the tensor).</summary>
    public Shape Shape => Shape.Wrap(_shape);

    /// <summary>The number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>The size of dimension <paramref name="axis"/> (negative counts from the end).</summary>
    public int Dim(int axis) => _shape[axis < 0 ? _shape.Length + axis : axis];

    /// <summary>The elements, row-major.</summary>
    public Span<float> Span => _data.AsSpan(_offset, Length);

    /// <summary>The backing array; this tensor's elements are <c>Storage[StorageOffset..(StorageOffset + Length)]</c>.</summary>
    public float[] Storage => _data;

    /// <summary>Where this tensor's elements start in <see cref="Storage"/>: 0 except for views of items (<c>x[3]</c>, <c>x[10..20]</c>).</summary>
    public int StorageOffset => _offset;

    /// <summary>Row <paramref name="i"/> of the tensor seen as a matrix [Dim(0), Length/Dim(0)].</summary>
    public Span<float> Row(int i)
    {
        int cols = _shape.Length == 0 ? 1 : Length / Math.Max(1, _shape[0]);
        return _data.AsSpan(_offset + i * cols, cols);
    }

    /// <summary>The element at row <paramref name="i"/>, column <paramref name="j"/> of a rank-2 tensor.</summary>
    public float this[int i, int j]
    {
        get => _data[Offset2(i, j)];
        set => _data[Offset2(i, j)] = value;
    }

    private int Offset2(int i, int j)
    {
        if (_shape.Length != 2) throw new InvalidOperationException($"A two-index access needs a rank-2 tensor; this one has shape {ShapeToString(_shape)}.");
        if ((uint)i >= (uint)_shape[0] || (uint)j >= (uint)_shape[1]) throw new IndexOutOfRangeException($"Index ({i}, {j}) is outside shape {ShapeToString(_shape)}.");
        return _offset + i * _shape[1] + j;
    }

    /// <summary>A tensor sharing this one's storage, with another shape of the same element count. One dimension may be -1.</summary>
    public Tensor Reshape(params int[] shape)
    {
        var resolved = ResolveShape(shape, Length);
        return new Tensor(_data, _offset, resolved) { ClassNames = ClassNames };
    }

    /// <summary>A deep copy.</summary>
    public Tensor Clone() => new(Span.ToArray(), _shape) { ClassNames = ClassNames };

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    public void Fill(float value) => Span.Fill(value);

    /// <summary>Copies the elements into a new array of exactly <see cref="Length"/>.</summary>
    public float[] ToArray() => Span.ToArray();

    /// <summary>
    /// Gives the tensor a new shape, keeping the storage when it is large enough. Contents are
    /// unspecified afterwards. Used by the graph to follow the batch size without allocating.
    /// </summary>
    internal void Resize(ReadOnlySpan<int> shape)
    {
        if (!shape.SequenceEqual(_shape)) _shape = shape.ToArray();
        int n = ProductOf(_shape);
        if (n > _data.Length - _offset) { _data = new float[n]; _offset = 0; }
        Length = n;
    }

    /// <summary>Resize to [rows, cols] without allocating a shape array when it is unchanged.</summary>
    internal void Resize(int rows, int cols)
    {
        if (_shape.Length != 2 || _shape[0] != rows || _shape[1] != cols) _shape = [rows, cols];
        int n = rows * cols;
        if (n > _data.Length - _offset) { _data = new float[n]; _offset = 0; }
        Length = n;
    }

    internal ReadOnlySpan<int> ShapeSpan => _shape;

    public static Tensor FromArray(float[,] values)
    {
        int r = values.GetLength(0), c = values.GetLength(1);
        var t = new Tensor(r, c);
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++) t._data[i * c + j] = values[i, j];
        return t;
    }

    public static Tensor FromArray(float[] values) => new((float[])values.Clone(), values.Length);

    /// <summary>A scalar (rank-0) tensor.</summary>
    public static Tensor Scalar(float value) => new([value], Array.Empty<int>());

    /// <summary>
    /// A tensor holding one value (a loss, a mean, x[i] of a vector) prints as that float does, so
    /// <c>$"{loss:F4}"</c> reads 0.0737. Others print as Tensor(shape) and, up to 64 elements, their values.
    /// </summary>
    public override string ToString() => ToString(null, CultureInfo.InvariantCulture);

    public string ToString(string? format, IFormatProvider? formatProvider)
    {
        if (_shape.Length == 0) return Span[0].ToString(format, formatProvider);
        var sb = new StringBuilder();
        sb.Append("Tensor").Append(ShapeToString(_shape));
        if (Length <= 64)
        {
            sb.Append(' ').Append('[');
            var s = Span;
            for (int i = 0; i < s.Length; i++)
            {
                if (i > 0) sb.Append(", ");
                sb.Append(s[i].ToString(format ?? "G6", formatProvider ?? CultureInfo.InvariantCulture));
            }
            sb.Append(']');
        }
        return sb.ToString();
    }

    internal static string ShapeToString(ReadOnlySpan<int> shape)
    {
        var sb = new StringBuilder("(");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(shape[i] < 0 ? "None" : shape[i].ToString(CultureInfo.InvariantCulture));
        }
        if (shape.Length == 1) sb.Append(',');
        return sb.Append(')').ToString();
    }

    internal static int ProductOf(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            n *= d;
            if (n > Array.MaxLength) throw new ArgumentException($"Shape {ShapeToString(shape)} has more elements than an array can hold.");
        }
        return (int)n;
    }

    private static int[] CheckShape(int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        foreach (int d in shape)
            if (d < 0) throw new ArgumentException($"Invalid value received for argument `shape`. Expected non-negative dimensions. Received: {ShapeToString(shape)}.", nameof(shape));
        return (int[])shape.Clone();
    }

    private static int[] ResolveShape(int[] shape, int length)
    {
        var s = (int[])shape.Clone();
        int unknown = -1;
        long known = 1;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == -1)
            {
                if (unknown >= 0) throw new ArgumentException("Only one dimension of a reshape may be -1.");
                unknown = i;
            }
            else if (s[i] < 0) throw new ArgumentException($"Invalid dimension {s[i]} in reshape.");
            else known *= s[i];
        }
        if (unknown >= 0)
        {
            if (known == 0 || length % known != 0) throw new ArgumentException($"Cannot reshape {length} elements into {ShapeToString(shape)}.");
            s[unknown] = (int)(length / known);
        }
        else if (known != length) throw new ArgumentException($"Cannot reshape {length} elements into {ShapeToString(shape)}.");
        return s;
    }
}
