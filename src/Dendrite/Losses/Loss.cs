namespace Dendrite.Losses;

/// <summary>
/// A loss by its Keras name: categorical_crossentropy, sparse_categorical_crossentropy,
/// mean_squared_error, binary_crossentropy, or quadratic (Nielsen's ½‖a - y‖², averaged over the batch).
/// Categorical cross-entropies fed by a softmax are computed from the logits, fused and stable.
/// </summary>
public sealed class Loss
{
    private enum Kinds { CategoricalCrossEntropy, SparseCategoricalCrossEntropy, MeanSquaredError, BinaryCrossEntropy, Quadratic }

    private readonly Kinds _kind;

    private Loss(string name, Kinds kind) { Name = name; _kind = kind; }

    public string Name { get; }

    public static readonly Loss CategoricalCrossEntropy = new("categorical_crossentropy", Kinds.CategoricalCrossEntropy);
    public static readonly Loss SparseCategoricalCrossEntropy = new("sparse_categorical_crossentropy", Kinds.SparseCategoricalCrossEntropy);
    public static readonly Loss MeanSquaredError = new("mean_squared_error", Kinds.MeanSquaredError);
    public static readonly Loss BinaryCrossEntropy = new("binary_crossentropy", Kinds.BinaryCrossEntropy);
    public static readonly Loss Quadratic = new("quadratic", Kinds.Quadratic);

    private static readonly Loss[] All = [CategoricalCrossEntropy, SparseCategoricalCrossEntropy, MeanSquaredError, BinaryCrossEntropy, Quadratic];

    public static Loss Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string n = name.ToLowerInvariant() switch { "mse" => "mean_squared_error", var x => x };
        foreach (var l in All) if (l.Name == n) return l;
        throw new ArgumentException($"Invalid value received for argument `loss`. Expected one of {string.Join(", ", All.Select(l => l.Name))}. Received: loss={name}.", nameof(name));
    }

    public static implicit operator Loss(string name) => Get(name);

    /// <summary>True when targets are class indices (shape (batch,)) rather than rows like the output.</summary>
    public bool SparseTargets => _kind == Kinds.SparseCategoricalCrossEntropy;

    /// <summary>True when targets are categories, so "accuracy" means argmax agreement.</summary>
    internal bool Categorical => _kind is Kinds.CategoricalCrossEntropy or Kinds.SparseCategoricalCrossEntropy;

    /// <summary>The shape of the targets for a model whose output has shape <paramref name="outputShape"/> (batch first).</summary>
    internal int[] TargetShape(int[] outputShape) => SparseTargets ? [-1] : outputShape;

    /// <summary>
    /// Builds the loss node for <paramref name="prediction"/> against <paramref name="target"/>, and the node
    /// whose argmax (or threshold) the accuracy metric reads: the logits when softmax was fused away.
    /// </summary>
    internal (Node loss, Node metricInput) Build(Node prediction, Node target)
    {
        var softmax = prediction as SoftmaxOp;
        bool fuse = softmax is not null && !softmax.IsLog;
        return _kind switch
        {
            Kinds.CategoricalCrossEntropy when fuse => (Ops.SoftmaxCrossEntropy(softmax!.Input, target), softmax.Input),
            Kinds.SparseCategoricalCrossEntropy when fuse => (Ops.SparseSoftmaxCrossEntropy(softmax!.Input, target), softmax.Input),
            Kinds.CategoricalCrossEntropy => (Ops.CategoricalCrossEntropy(prediction, target), prediction),
            Kinds.SparseCategoricalCrossEntropy => (new SparseCategoricalCrossEntropyOp(prediction, target), prediction),
            Kinds.MeanSquaredError => (Ops.MeanSquaredError(prediction, target), prediction),
            Kinds.BinaryCrossEntropy => (Ops.BinaryCrossEntropy(prediction, target), prediction),
            _ => (Ops.QuadraticCost(prediction, target), prediction),
        };
    }

    public override string ToString() => Name;
}
