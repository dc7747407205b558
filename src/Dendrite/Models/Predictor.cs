using System.Collections.Concurrent;
using System.Numerics.Tensors;
using Dendrite.Serialization;

namespace Dendrite.Models;

/// <summary>
/// Predictions from one model that any number of threads may ask for at once (a <see cref="Sequential"/> itself is
/// not safe to use from several threads: its graph keeps each layer's output in buffers of its own).
/// </summary>
/// <remarks>
/// Each concurrent call borrows a replica of the model's graph from a pool: the same layers, built from the model's
/// config, whose weight variables hold the model's own weight tensors (shared, not copied), and whose activation
/// buffers are the replica's own. A replica computes exactly what the model computes, so every prediction equals
/// <see cref="Sequential.Predict(ReadOnlySpan{float}, Span{float})"/> on the model alone bit for bit, whatever the
/// number of threads. The pool grows to the largest number of calls made at once and is reused after that, so a
/// steady load allocates nothing per prediction but the result. Do not train or change the model's weights while
/// predicting.
/// </remarks>
public sealed class Predictor
{
    private readonly ConcurrentBag<Sequential> _replicas = [];
    private readonly string _config;
    private int _created;

    /// <summary>A predictor over <paramref name="model"/>'s weights; the model must be built (loaded, trained or given its input shape).</summary>
    public Predictor(Sequential model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.IsBuilt) throw new InvalidOperationException("The model is not built: load it, fit it or give its first layer an input shape before making a Predictor.");
        Model = model;
        _config = ModelFile.ConfigJson(model);
        InputSize = Tensor.ProductOf(model.InputShape);
        OutputSize = Tensor.ProductOf(model.OutputShape);
    }

    /// <summary>The model whose weights every prediction reads.</summary>
    public Sequential Model { get; }

    /// <summary>Values in one input item (784 for a 28×28 image).</summary>
    public int InputSize { get; }

    /// <summary>Values in one output (the number of classes).</summary>
    public int OutputSize { get; }

    /// <summary>Replicas made so far: the most calls that have run at once.</summary>
    public int Replicas => Volatile.Read(ref _created);

    /// <summary>The outputs for one item (row-major values, <see cref="InputSize"/> of them) into <paramref name="output"/>. Thread-safe.</summary>
    public void Predict(ReadOnlySpan<float> item, Span<float> output)
    {
        if (item.Length != InputSize) throw new ArgumentException($"The model takes items of {InputSize} values (shape {Tensor.ShapeToString(Model.InputShape)}); received {item.Length}.", nameof(item));
        if (output.Length < OutputSize) throw new ArgumentException($"The output span holds {output.Length} values; the model produces {OutputSize}.", nameof(output));
        var replica = Rent();
        try { replica.Predict(item, output); }
        finally { _replicas.Add(replica); }
    }

    /// <summary>The outputs (class probabilities for a softmax output) for one item. Thread-safe.</summary>
    public float[] Predict(ReadOnlySpan<float> item)
    {
        var output = new float[OutputSize];
        Predict(item, output);
        return output;
    }

    /// <summary>The most probable class of one item, with its name and probability, and every class's probability. Thread-safe.</summary>
    public (ClassPrediction Top, float[] Probabilities) Classify(ReadOnlySpan<float> item)
    {
        var p = Predict(item);
        int k = TensorPrimitives.IndexOfMax<float>(p);
        return (new ClassPrediction(k, Model.ClassName(k), p[k]), p);
    }

    private Sequential Rent()
    {
        if (_replicas.TryTake(out var replica)) return replica;
        replica = ModelFile.FromConfig(_config, "model");
        replica.Build(Model.InputShape);
        for (int i = 0; i < Model.Layers.Count; i++)
        {
            var own = Model.Layers[i].Weights;
            var theirs = replica.Layers[i].Weights;
            for (int j = 0; j < own.Count; j++) theirs[j].Share(own[j].Value);
        }
        Interlocked.Increment(ref _created);
        return replica;
    }
}
