using System.Numerics.Tensors;

namespace Dendrite.Data;

/// <summary>
/// Labelled images kept as bytes (0..255) and converted to floats one batch at a time, so the 60,000
/// MNIST images take 47 MB rather than 188. Labels are class indices; <see cref="ClassNames"/> names them.
/// </summary>
public sealed class Dataset
{
    public Dataset(string name, byte[] images, int[] itemShape, byte[] labels, string[] classNames)
    {
        ArgumentNullException.ThrowIfNull(images); ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(itemShape); ArgumentNullException.ThrowIfNull(classNames);
        Name = name;
        ItemShape = (int[])itemShape.Clone();
        ItemSize = Tensor.ProductOf(itemShape);
        if (ItemSize == 0 || images.Length % ItemSize != 0)
            throw new InvalidDataFormatException($"{name}: {images.Length:N0} image bytes are not a whole number of {Tensor.ShapeToString(itemShape)} items.");
        Count = images.Length / ItemSize;
        if (labels.Length != Count)
            throw new InvalidDataFormatException($"{name}: {Count:N0} images but {labels.Length:N0} labels.");
        if (classNames.Length is 0 or > 256) throw new ArgumentException("A dataset needs 1 to 256 class names.", nameof(classNames));
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] >= classNames.Length)
                throw new InvalidDataFormatException($"{name}: label {labels[i]} of item {i} is out of range: there are {classNames.Length} classes (0..{classNames.Length - 1}).");
        Images = images;
        Labels = labels;
        ClassNames = (string[])classNames.Clone();
    }

    public string Name { get; }

    /// <summary>The data set this split belongs to: "mnist" for "mnist-train" or "mnist-test"; the name itself otherwise.</summary>
    public string BaseName => Name.EndsWith("-train", StringComparison.Ordinal) ? Name[..^6] : Name.EndsWith("-test", StringComparison.Ordinal) ? Name[..^5] : Name;
    public int Count { get; }
    public int[] ItemShape { get; }
    public int ItemSize { get; }
    /// <summary>Count × ItemSize bytes, item after item.</summary>
    public byte[] Images { get; }
    public byte[] Labels { get; }
    public string[] ClassNames { get; }
    public int Classes => ClassNames.Length;

    /// <summary>The pixels of item <paramref name="i"/>.</summary>
    public ReadOnlySpan<byte> Image(int i) => Images.AsSpan(i * ItemSize, ItemSize);

    /// <summary>Images as floats of shape (Count, ItemShape...), multiplied by <paramref name="scale"/> (1/255 gives [0, 1]).</summary>
    public Tensor ImagesAsTensor(float scale = 1f)
    {
        var t = new Tensor([Count, .. ItemShape]);
        ToFloats(Images, t.Span, scale);
        return t;
    }

    /// <summary>Labels as floats of shape (Count,), carrying the <see cref="ClassNames"/> (see <see cref="Tensor.ClassNames"/>).</summary>
    public Tensor LabelsAsTensor()
    {
        var t = new Tensor(Count) { ClassNames = ClassNames };
        ToFloats(Labels, t.Span, 1f);
        return t;
    }

    /// <summary>Labels one-hot encoded, shape (Count, Classes).</summary>
    public Tensor OneHotLabels() => Datasets.ToCategorical(LabelsAsTensor(), Classes);

    /// <summary>
    /// Batches drawn as the TensorFlow tutorial's <c>mnist.train.next_batch</c>: a new permutation each epoch from
    /// <paramref name="seed"/>; images as floats times <paramref name="scale"/> (1/255 by default, giving [0, 1], as the
    /// tutorial's data), labels one-hot (or class indices with <paramref name="oneHot"/> false), both carrying the class names.
    /// </summary>
    public BatchIterator Batches(ulong seed = 0, float scale = 1f / 255, bool oneHot = true) => Batches(new Rng(seed), scale, oneHot);

    /// <summary>As <see cref="Batches(ulong, float, bool)"/>, drawing the permutations from <paramref name="rng"/> (shared with whatever else it seeds).</summary>
    public BatchIterator Batches(Rng rng, float scale = 1f / 255, bool oneHot = true) =>
        new(new Models.ImageSource(this, scale), new Models.LabelSource(this, oneHot), rng, shuffle: true, ClassNames);

    private BatchIterator? _batches;

    /// <summary>
    /// The next <paramref name="batchSize"/> images and one-hot labels, as the tutorial's <c>mnist.train.next_batch(100)</c>:
    /// pixels in [0, 1], shape (batchSize, ItemShape...), from passes over this data set shuffled with seed 0. For
    /// another seed or scale, draw from <see cref="Batches(ulong, float, bool)"/>.
    /// </summary>
    public (Tensor Images, Tensor Labels) NextBatch(int batchSize) => (_batches ??= Batches()).NextBatch(batchSize);

    /// <summary>Items [start, start + count) as a new dataset.</summary>
    public Dataset Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"Items [{start}, {start + count}) are outside a dataset of {Count}.");
        return new Dataset(Name, Images.AsSpan(start * ItemSize, count * ItemSize).ToArray(), ItemShape, Labels.AsSpan(start, count).ToArray(), ClassNames);
    }

    /// <summary>The first <paramref name="count"/> items.</summary>
    public Dataset Take(int count) => Slice(0, Math.Min(count, Count));

    internal static void ToFloats(ReadOnlySpan<byte> src, Span<float> dst, float scale)
    {
        TensorPrimitives.ConvertTruncating<byte, float>(src, dst);
        if (scale != 1f) TensorPrimitives.Multiply(dst, scale, dst);
    }

    public override string ToString() => $"{Name}: {Count:N0} items of {Tensor.ShapeToString(ItemShape)}, {Classes} classes";
}

/// <summary>Helpers named as in Keras's utils.</summary>
public static class Datasets
{
    /// <summary>One-hot encodes class indices of shape (N,) into (N, classes) (Keras's to_categorical).</summary>
    public static Tensor ToCategorical(Tensor labels, int classes)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (classes <= 0) throw new ArgumentOutOfRangeException(nameof(classes), classes, "Expected a positive number of classes.");
        var src = labels.Span;
        var t = new Tensor(src.Length, classes) { ClassNames = labels.ClassNames is { } names && names.Length == classes ? names : null };
        var dst = t.Span;
        for (int i = 0; i < src.Length; i++)
        {
            float v = src[i];
            int c = (int)v;
            if (c != v || c < 0 || c >= classes)
                throw new ArgumentOutOfRangeException(nameof(labels), $"Label {v} at index {i} is not a class index in [0, {classes - 1}].");
            dst[i * classes + c] = 1f;
        }
        return t;
    }
}
