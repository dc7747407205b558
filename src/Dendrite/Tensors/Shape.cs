using System.Collections;
using System.Runtime.CompilerServices;

namespace Dendrite;

/// <summary>
/// A tensor's dimensions, printed as NumPy and Keras print them: <c>(60000, 28, 28)</c>, <c>(10,)</c>, <c>()</c>
/// (-1, an unknown batch size, prints as None). It stands in for the <c>int[]</c> it replaces: it converts to and from
/// <c>int[]</c> (a copy each way, so a shape never changes under its tensor), indexes (<c>s[0]</c>, <c>s[^1]</c>,
/// <c>s[1..]</c>), has <see cref="Length"/>, enumerates, deconstructs (<c>var (n, h, w) = x.Shape</c>) and compares by
/// value.
/// </summary>
[CollectionBuilder(typeof(Shape), nameof(Create))]
public readonly struct Shape : IReadOnlyList<int>, IEquatable<Shape>
{
    private readonly int[]? _dims;

    private Shape(int[] dims) => _dims = dims;

    /// <summary>A shape of the given dimensions (copied).</summary>
    public Shape(params ReadOnlySpan<int> dims) => _dims = dims.ToArray();

    /// <summary>For collection expressions: <c>Shape s = [28, 28];</c></summary>
    public static Shape Create(ReadOnlySpan<int> dims) => new(dims);

    /// <summary>Wraps an array that nobody will change afterwards (the tensor's own), without copying.</summary>
    internal static Shape Wrap(int[] dims) => new(dims);

    private ReadOnlySpan<int> Dims => _dims;

    /// <summary>The number of dimensions (the rank).</summary>
    public int Length => _dims?.Length ?? 0;

    int IReadOnlyCollection<int>.Count => Length;

    /// <summary>Dimension <paramref name="index"/>; <c>s[^1]</c> is the last.</summary>
    public int this[int index] => (uint)index < (uint)Length ? _dims![index]
        : throw new IndexOutOfRangeException($"Dimension {index} is outside shape {this}, which has {Length}.");

    /// <summary>The dimensions in <paramref name="range"/>, as a shape: <c>x.Shape[1..]</c> is the shape of one item.</summary>
    public Shape this[Range range]
    {
        get
        {
            var (start, length) = range.GetOffsetAndLength(Length);
            return new Shape(Dims.Slice(start, length));
        }
    }

    /// <summary>The number of elements a tensor of this shape holds (1 for a scalar).</summary>
    public int ElementCount => Tensor.ProductOf(Dims);

    public int[] ToArray() => Dims.ToArray();

    public ReadOnlySpan<int> AsSpan() => Dims;

    public static implicit operator int[](Shape s) => s.ToArray();

    public static implicit operator Shape(int[] dims) => new((ReadOnlySpan<int>)(dims ?? throw new ArgumentNullException(nameof(dims))));

    public static implicit operator ReadOnlySpan<int>(Shape s) => s.Dims;

    public void Deconstruct(out int d0, out int d1) { Need(2); d0 = _dims![0]; d1 = _dims[1]; }

    public void Deconstruct(out int d0, out int d1, out int d2) { Need(3); d0 = _dims![0]; d1 = _dims[1]; d2 = _dims[2]; }

    public void Deconstruct(out int d0, out int d1, out int d2, out int d3) { Need(4); d0 = _dims![0]; d1 = _dims[1]; d2 = _dims[2]; d3 = _dims[3]; }

    public void Deconstruct(out int d0, out int d1, out int d2, out int d3, out int d4) { Need(5); d0 = _dims![0]; d1 = _dims[1]; d2 = _dims[2]; d3 = _dims[3]; d4 = _dims[4]; }

    private void Need(int rank)
    {
        if (Length != rank) throw new InvalidOperationException($"Cannot deconstruct shape {this} into {rank} dimensions: it has {Length}.");
    }

    public IEnumerator<int> GetEnumerator()
    {
        for (int i = 0; i < Length; i++) yield return _dims![i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);

    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (int d in Dims) h.Add(d);
        return h.ToHashCode();
    }

    public static bool operator ==(Shape a, Shape b) => a.Equals(b);

    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    /// <summary>(60000, 28, 28); (10,) for one dimension; () for a scalar; None for an unknown (-1) dimension.</summary>
    public override string ToString() => Tensor.ShapeToString(Dims);
}
