using System.Globalization;
using Dendrite.Layers;
using Dendrite.Optimizers;

namespace Dendrite.Models;

/// <summary>Raised, before anything is allocated, when a model or a data set would need more memory than there is. The message gives both figures.</summary>
public sealed class NotEnoughMemoryException(string message) : InvalidOperationException(message);

/// <summary>
/// How much memory this process can still take, so that work which would not fit is refused up front with the
/// figures, rather than dying halfway with an OutOfMemoryException.
/// </summary>
public static class MemoryBudget
{
    [ThreadStatic] private static long? t_availableOverride;

    /// <summary>
    /// Bytes that can still be allocated: the garbage collector's limit (physical memory, a container's limit, or
    /// DOTNET_GCHeapHardLimit) less the managed heap in use, and on Linux no more than the kernel's MemAvailable.
    /// </summary>
    public static long Available
    {
        get
        {
            if (t_availableOverride is long o) return o;
            long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes - GC.GetTotalMemory(forceFullCollection: false);
            if (OperatingSystem.IsLinux() && MemAvailable() is long kernel) available = Math.Min(available, kernel);
            return Math.Max(0, available);
        }
    }

    /// <summary>For tests: makes <see cref="Available"/> report <paramref name="bytes"/> on this thread until disposed.</summary>
    internal static IDisposable Pretend(long bytes)
    {
        var previous = t_availableOverride;
        t_availableOverride = bytes;
        return new Restore(() => t_availableOverride = previous);
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    /// <summary>Throws <see cref="NotEnoughMemoryException"/> when <paramref name="bytes"/> exceed <see cref="Available"/>: "{what} needs about X; Y is available."</summary>
    public static void Require(long bytes, string what, string? detail = null)
    {
        long available = Available;
        if (bytes > available)
            throw new NotEnoughMemoryException($"{what} needs about {Format(bytes)}{(detail is null ? "" : $" ({detail})")}; {Format(available)} of memory is available.");
    }

    /// <summary>Bytes for people: "812 KB", "6.3 GB".</summary>
    public static string Format(long bytes) => bytes switch
    {
        < 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes"),
        < 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F0} KB"),
        < 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F1} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1073741824.0:F1} GB"),
    };

    private static long? MemAvailable()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan(13).Trim().TrimEnd("kB").Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long kb))
                    return kb * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }
}

/// <summary>
/// What a model needs in memory, in bytes, worked out from its layers' shapes before anything is allocated:
/// the weights; one gradient per weight and the optimizer's slots (training only); and for a batch, each layer's
/// output (and its gradient, training) plus any workspace a layer reports, the input batch, the targets and the loss.
/// </summary>
public sealed record MemoryEstimate(long Weights, long Gradients, long OptimizerSlots, long Activations, int BatchSize, bool Training)
{
    public long Total => Weights + Gradients + OptimizerSlots + Activations;

    /// <summary>Rows evaluation and prediction run at once (Evaluate's and Predict's default batch size): the graph's buffers grow to it during validation.</summary>
    public const int EvaluationBatch = 1024;

    public override string ToString() =>
        $"weights {MemoryBudget.Format(Weights)}" + (Training ? $", gradients {MemoryBudget.Format(Gradients)}, optimizer slots {MemoryBudget.Format(OptimizerSlots)}" : "")
        + $", activations for a batch of {BatchSize:N0} {MemoryBudget.Format(Activations)}";

    /// <summary>
    /// The estimate for <paramref name="layers"/> taking items of <paramref name="inputShape"/>, in batches of
    /// <paramref name="batchSize"/>; for training, <paramref name="optimizer"/>'s slots count too, and validation
    /// batches of <see cref="EvaluationBatch"/> rows. Throws an ArgumentException when the shapes do not fit together.
    /// </summary>
    public static MemoryEstimate For(IReadOnlyList<Layer> layers, int[] inputShape, int batchSize, bool training, Optimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "Expected a positive batch size.");
        try { return Sum(layers, inputShape, batchSize, training, optimizer); }
        catch (OverflowException)
        {
            throw new ArgumentException($"The model's sizes for items of shape {Tensor.ShapeToString(inputShape)} in batches of {batchSize:N0} overflow a 64-bit count of bytes.");
        }
    }

    private static MemoryEstimate Sum(IReadOnlyList<Layer> layers, int[] inputShape, int batchSize, bool training, Optimizer? optimizer)
    {
        checked
        {
            long weights = 0, outputs = 0, workspace = 0;
            int[] shape = inputShape;
            long input = Product(inputShape);
            foreach (var layer in layers)
            {
                var next = layer.ComputeOutputShape(shape);
                foreach (var (_, w) in layer.WeightShapes(shape)) weights += Product(w);
                workspace += layer.WorkspacePerItem(shape);   // each layer's op keeps its own scratch buffer
                outputs += Product(next);
                shape = next;
            }
            long output = Product(shape);
            int slots = training ? optimizer?.SlotNames.Count ?? 0 : 0;
            // Per item: every layer's output, the input batch, the targets and the loss's own buffers (about two outputs' worth).
            long valuesPerItem = outputs + input + 3 * output + workspace;
            long gradsPerItem = outputs + 2 * output;
            long rows = training ? Math.Max(batchSize, EvaluationBatch) : batchSize;
            long activations = training ? rows * valuesPerItem + (long)batchSize * gradsPerItem : rows * valuesPerItem;
            return new MemoryEstimate(4 * weights, training ? 4 * weights : 0, 4 * weights * slots, 4 * activations, batchSize, training);
        }
    }

    private static long Product(int[] shape)
    {
        long n = 1;
        foreach (int d in shape) n = checked(n * d);
        return n;
    }
}
