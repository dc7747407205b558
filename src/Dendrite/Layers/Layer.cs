namespace Dendrite.Layers;

/// <summary>
/// A layer of a <see cref="Models.Sequential"/> model. It is built once its input shape is known
/// (creating its weights), then called on a graph node to add its ops. Shapes here leave out the batch.
/// </summary>
public abstract class Layer
{
    private static readonly Dictionary<string, int> s_counters = [];
    private int[]? _outputShape;

    protected Layer(string? name, int[]? inputShape)
    {
        Name = name ?? UniqueName(SnakeCase(GetType().Name));
        InputShape = inputShape;
    }

    public string Name { get; }

    /// <summary>Keras's to_snake_case: MaxPooling2D → max_pooling2d, BatchNormalization → batch_normalization.</summary>
    internal static string SnakeCase(string type)
    {
        var s = System.Text.RegularExpressions.Regex.Replace(type, "(.)([A-Z][a-z]+)", "$1_$2");
        return System.Text.RegularExpressions.Regex.Replace(s, "([a-z])([A-Z])", "$1_$2").ToLowerInvariant();
    }

    /// <summary>Keras's naming: dense, dense_1, dense_2, ... per layer type.</summary>
    private static string UniqueName(string type)
    {
        lock (s_counters)
        {
            int n = s_counters.GetValueOrDefault(type);
            s_counters[type] = n + 1;
            return n == 0 ? type : $"{type}_{n}";
        }
    }

    /// <summary>The item shape this layer expects, if given (Keras's input_shape); only the first layer needs it.</summary>
    public int[]? InputShape { get; private set; }

    /// <summary>The item shape this layer produces; known once built.</summary>
    public int[] OutputShape => _outputShape ?? throw new InvalidOperationException($"Layer `{Name}` is not built yet: its input shape is unknown.");

    public bool IsBuilt => _outputShape is not null;

    /// <summary>The layer's variables (kernel, bias...), empty for layers without weights.</summary>
    public virtual IReadOnlyList<Variable> Weights => [];

    /// <summary>Copies of the layer's weights, in the order of <see cref="Weights"/> (Keras's layer.get_weights(): a Dense layer's kernel, then its bias).</summary>
    public Tensor[] GetWeights() => Weights.Select(w => w.Value.Clone()).ToArray();

    /// <summary>
    /// Sets the layer's weights from copies of <paramref name="weights"/>, in the order of <see cref="Weights"/>, each of
    /// the same shape (Keras's layer.set_weights()). A layer given an inputShape but not yet built is built first, so
    /// a hand-set layer takes two lines: <c>var d = new Dense(1, inputShape: [2]); d.SetWeights(kernel, bias);</c>.
    /// </summary>
    public void SetWeights(params Tensor[] weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (!IsBuilt)
        {
            if (InputShape is null) throw new InvalidOperationException($"Layer `{Name}` has no weights yet: give it an inputShape, or build the model it is in, before setting them.");
            Build(InputShape, new Rng(0));   // the initial values are replaced below
        }
        var mine = Weights;
        if (weights.Length != mine.Count)
            throw new ArgumentException($"You called SetWeights on layer `{Name}` with {weights.Length} weight{(weights.Length == 1 ? "" : "s")}, but the layer has {mine.Count}: {string.Join(", ", mine.Select(w => $"{w.Name} {Tensor.ShapeToString(w.Value.ShapeSpan)}"))}.");
        for (int i = 0; i < weights.Length; i++)
        {
            ArgumentNullException.ThrowIfNull(weights[i]);
            if (!weights[i].ShapeSpan.SequenceEqual(mine[i].Value.ShapeSpan))
                throw new ArgumentException($"Layer `{Name}` weight {mine[i].Name} has shape {Tensor.ShapeToString(mine[i].Value.ShapeSpan)}; the value given for it has shape {Tensor.ShapeToString(weights[i].ShapeSpan)}.");
        }
        for (int i = 0; i < weights.Length; i++) weights[i].Span.CopyTo(mine[i].Value.Span);
    }

    /// <summary>The number of scalars in <see cref="Weights"/>.</summary>
    public int ParamCount => Weights.Sum(w => w.Value.Length);

    /// <summary>Builds the layer for items of <paramref name="inputShape"/>, creating weights from <paramref name="rng"/>.</summary>
    public void Build(int[] inputShape, Rng rng)
    {
        if (InputShape is not null && !InputShape.SequenceEqual(inputShape))
            throw new ArgumentException($"Layer `{Name}` was declared with input shape {Tensor.ShapeToString(InputShape)} but receives {Tensor.ShapeToString(inputShape)}.");
        var output = ComputeOutputShape(inputShape);
        CreateWeights(inputShape, rng);
        InputShape = inputShape;
        _outputShape = output;
    }

    /// <summary>The output item shape for items of <paramref name="inputShape"/>, or an ArgumentException naming why this layer cannot take them. Allocates nothing.</summary>
    public abstract int[] ComputeOutputShape(int[] inputShape);

    /// <summary>The names and shapes of the weights the layer would create for <paramref name="inputShape"/> (already validated by <see cref="ComputeOutputShape"/>).</summary>
    public virtual IReadOnlyList<(string Name, int[] Shape)> WeightShapes(int[] inputShape) => [];

    /// <summary>
    /// Floats of scratch memory the layer needs per item of the batch beyond its output (a convolution's im2col
    /// buffer, say), for items of <paramref name="inputShape"/>; 0 for most layers. The memory estimate counts it
    /// before training starts.
    /// </summary>
    public virtual long WorkspacePerItem(int[] inputShape) => 0;

    /// <summary>Creates the weights for items of <paramref name="inputShape"/>.</summary>
    protected virtual void CreateWeights(int[] inputShape, Rng rng) { }

    /// <summary>
    /// Adds this layer's ops on top of <paramref name="input"/> (whose shape is (batch, InputShape...)). Layers that
    /// act differently while training read <paramref name="training"/> when the graph runs; with none they always
    /// run as in inference.
    /// </summary>
    public abstract Node Call(Node input, TrainingSwitch? training = null);

    /// <summary>
    /// The weights this layer penalises and how (Keras's layer.losses): the model adds each penalty to its training
    /// loss. Empty for layers without regularizers.
    /// </summary>
    public virtual IEnumerable<(Variable Weight, Regularizers.Regularizer Regularizer)> Penalties => [];

    /// <summary>A layer's kernel and bias penalties, for the layers that take kernelRegularizer and biasRegularizer.</summary>
    private protected static IEnumerable<(Variable, Regularizers.Regularizer)> PenaltiesOf(Variable? kernel, Regularizers.Regularizer? kr, Variable? bias, Regularizers.Regularizer? br)
    {
        if (kernel is not null && kr is not null) yield return (kernel, kr);
        if (bias is not null && br is not null) yield return (bias, br);
    }

    /// <summary>The layer's settings by their Keras names; enough, with the weights, to rebuild it.</summary>
    public abstract IReadOnlyDictionary<string, object?> GetConfig();
}
