using Source = Dendrite.Models.DataSource;

namespace Dendrite.Data;

/// <summary>
/// Mini-batches drawn in order from a shuffled pass over the data, as the TensorFlow tutorial's
/// <c>mnist.train.next_batch(100)</c>: each epoch (pass) is a new permutation, from a seeded generator, so a run repeats
/// exactly. A batch that would run past the end of an epoch takes the epoch's remaining items, then the first items of
/// the next (reshuffled) epoch, so every batch has the size asked for. Get one from <see cref="Dataset.Batches(ulong, float, bool)"/>,
/// or from tensors with <see cref="BatchIterator(Tensor, Tensor?, ulong, bool)"/>.
/// </summary>
public sealed class BatchIterator
{
    private readonly Source _x;
    private readonly Source _y;
    private readonly Rng _rng;
    private readonly bool _shuffle;
    private readonly int[] _order;
    private readonly string[]? _classNames;
    private int _next;

    /// <summary>Batches of rows of <paramref name="x"/> with the same rows of <paramref name="y"/>, shuffled each epoch from <paramref name="seed"/>.</summary>
    public BatchIterator(Tensor x, Tensor y, ulong seed = 0, bool shuffle = true)
        : this(Source.FromTensor(x, "x"), Source.FromTensor(y, "y"), new Rng(seed), shuffle, y.ClassNames) { }

    /// <summary>As the other tensor constructor, drawing the permutations from <paramref name="rng"/> (shared with whatever else it seeds).</summary>
    public BatchIterator(Tensor x, Tensor y, Rng rng, bool shuffle = true)
        : this(Source.FromTensor(x, "x"), Source.FromTensor(y, "y"), rng, shuffle, y.ClassNames) { }

    internal BatchIterator(Source x, Source y, Rng rng, bool shuffle, string[]? classNames)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (y.Count != x.Count) throw new ArgumentException($"x has {x.Count} samples but y has {y.Count}: they must match.");
        if (x.Count == 0) throw new ArgumentException("There are no samples to draw batches from.");
        _x = x; _y = y; _rng = rng; _shuffle = shuffle; _classNames = classNames;
        _order = Enumerable.Range(0, x.Count).ToArray();
    }

    /// <summary>The number of samples in one epoch.</summary>
    public int Count => _x.Count;

    /// <summary>Whole passes over the data completed so far.</summary>
    public int EpochsCompleted { get; private set; }

    /// <summary>
    /// The next <paramref name="batchSize"/> samples, as new tensors: X of shape (batchSize, item shape...) and Y of
    /// shape (batchSize, label shape...).
    /// </summary>
    public (Tensor X, Tensor Y) NextBatch(int batchSize)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Invalid value received for argument `batch_size`. Expected a positive integer. Received: batch_size={batchSize}.");
        int xSize = _x.ItemSize, ySize = _y.ItemSize;
        // Every element is written below, so the storage need not be zeroed first (for MNIST, a tenth of the time).
        var x = new Tensor(GC.AllocateUninitializedArray<float>(batchSize * xSize), [batchSize, .. _x.ItemShape]);
        var y = new Tensor(GC.AllocateUninitializedArray<float>(batchSize * ySize), [batchSize, .. _y.ItemShape]) { ClassNames = _classNames };
        for (int filled = 0; filled < batchSize;)
        {
            if (_next == 0 && _shuffle) _rng.Shuffle(_order);   // a new epoch starts: a new permutation
            int take = Math.Min(batchSize - filled, _order.Length - _next);
            var idx = _order.AsSpan(_next, take);
            _x.Gather(idx, x.Span.Slice(filled * xSize, take * xSize));
            _y.Gather(idx, y.Span.Slice(filled * ySize, take * ySize));
            filled += take;
            _next += take;
            if (_next == _order.Length) { _next = 0; EpochsCompleted++; }
        }
        return (x, y);
    }
}
