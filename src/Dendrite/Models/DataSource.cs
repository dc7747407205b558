using Dendrite.Data;

namespace Dendrite.Models;

/// <summary>Rows of training data gathered into a batch buffer by index, converting as they go.</summary>
internal abstract class DataSource
{
    public abstract int Count { get; }

    /// <summary>The shape of one row (item).</summary>
    public abstract int[] ItemShape { get; }

    public int ItemSize => Tensor.ProductOf(ItemShape);

    /// <summary>Writes rows <paramref name="indices"/> one after another into <paramref name="dst"/>.</summary>
    public abstract void Gather(ReadOnlySpan<int> indices, Span<float> dst);

    public static DataSource FromTensor(Tensor t, string what) => new TensorSource(t, what);
}

internal sealed class TensorSource : DataSource
{
    private readonly Tensor _t;
    private readonly int[] _item;
    private readonly int _size;

    public TensorSource(Tensor t, string what)
    {
        ArgumentNullException.ThrowIfNull(t, what);
        if (t.Rank == 0) throw new ArgumentException($"`{what}` must have a batch dimension; received a scalar.");
        _t = t;
        _item = t.Shape[1..];
        _size = Tensor.ProductOf(_item);
    }

    public override int Count => _t.Dim(0);
    public override int[] ItemShape => _item;

    public override void Gather(ReadOnlySpan<int> indices, Span<float> dst)
    {
        var src = _t.Span;
        for (int i = 0; i < indices.Length; i++) src.Slice(indices[i] * _size, _size).CopyTo(dst.Slice(i * _size, _size));
    }
}

/// <summary>A dataset's images, converted from bytes to floats per batch: values 0..255 times <paramref name="scale"/>.</summary>
internal sealed class ImageSource(Dataset d, float scale = 1f) : DataSource
{
    public override int Count => d.Count;
    public override int[] ItemShape => d.ItemShape;

    public override void Gather(ReadOnlySpan<int> indices, Span<float> dst)
    {
        int size = d.ItemSize;
        for (int i = 0; i < indices.Length; i++) Dataset.ToFloats(d.Image(indices[i]), dst.Slice(i * size, size), scale);
    }
}

/// <summary>A dataset's labels, as one-hot rows or as class indices.</summary>
internal sealed class LabelSource(Dataset d, bool oneHot) : DataSource
{
    private readonly int[] _item = oneHot ? [d.Classes] : [];

    public override int Count => d.Count;
    public override int[] ItemShape => _item;

    public override void Gather(ReadOnlySpan<int> indices, Span<float> dst)
    {
        if (oneHot)
        {
            int c = d.Classes;
            dst.Slice(0, indices.Length * c).Clear();
            for (int i = 0; i < indices.Length; i++) dst[i * c + d.Labels[indices[i]]] = 1f;
        }
        else for (int i = 0; i < indices.Length; i++) dst[i] = d.Labels[indices[i]];
    }
}
