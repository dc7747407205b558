using Dendrite.Regularizers;

namespace Dendrite.Layers;

/// <summary>
/// A fully connected layer: y = f(x·W + b), with W of shape (inputs, units) as in Keras.
/// Input items must be vectors; put a <see cref="Flatten"/> before it for images.
/// </summary>
public sealed class Dense : Layer
{
    private Variable? _kernel, _bias;

    public Dense(int units, ActivationFunction? activation = null, bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? biasInitializer = null,
        int[]? inputShape = null, string? name = null,
        Regularizers.Regularizer? kernelRegularizer = null, Regularizers.Regularizer? biasRegularizer = null) : base(name, inputShape)
    {
        if (units <= 0) throw new ArgumentOutOfRangeException(nameof(units), units, $"Invalid value received for argument `units`. Expected a positive integer. Received: units={units}.");
        Units = units;
        Activation = activation ?? ActivationFunction.Linear;
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? Initializer.GlorotUniform;
        BiasInitializer = biasInitializer ?? Initializer.Zeros;
        KernelRegularizer = kernelRegularizer;
        BiasRegularizer = biasRegularizer;
    }

    public int Units { get; }
    public ActivationFunction Activation { get; }
    public bool UseBias { get; }
    public Initializer KernelInitializer { get; }
    public Initializer BiasInitializer { get; }

    /// <summary>Penalty on the kernel added to the training loss (Keras's kernel_regularizer); set it before the model is compiled.</summary>
    public Regularizers.Regularizer? KernelRegularizer { get; set; }

    /// <summary>Penalty on the bias added to the training loss (Keras's bias_regularizer); set it before the model is compiled.</summary>
    public Regularizers.Regularizer? BiasRegularizer { get; set; }

    public override IEnumerable<(Variable Weight, Regularizers.Regularizer Regularizer)> Penalties => PenaltiesOf(_kernel, KernelRegularizer, _bias, BiasRegularizer);

    public Variable Kernel => _kernel ?? throw new InvalidOperationException($"Layer `{Name}` is not built yet.");
    public Variable? Bias => _bias;

    public override IReadOnlyList<Variable> Weights => _kernel is null ? [] : _bias is null ? [_kernel] : [_kernel, _bias];

    public override int[] ComputeOutputShape(int[] inputShape)
    {
        if (inputShape.Length != 1)
            throw new ArgumentException($"Dense layer `{Name}` takes vectors, but its input items have shape {Tensor.ShapeToString(inputShape)}. Add a Flatten layer before it.");
        return [Units];
    }

    public override IReadOnlyList<(string Name, int[] Shape)> WeightShapes(int[] inputShape) =>
        UseBias ? [($"{Name}/kernel", [inputShape[0], Units]), ($"{Name}/bias", [Units])] : [($"{Name}/kernel", [inputShape[0], Units])];

    protected override void CreateWeights(int[] inputShape, Rng rng)
    {
        var shapes = WeightShapes(inputShape);
        _kernel = new Variable(KernelInitializer.Create(shapes[0].Shape, rng), shapes[0].Name);
        _bias = UseBias ? new Variable(BiasInitializer.Create(shapes[1].Shape, rng), shapes[1].Name) : null;
    }

    public override Node Call(Node input, TrainingSwitch? training = null)
    {
        if (Activation.IsElementwise) return Ops.Dense(input, Kernel, _bias, Activation);
        return Activation.Call(Ops.Dense(input, Kernel, _bias, ActivationFunction.Linear));
    }

    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>
    {
        ["name"] = Name, ["units"] = Units, ["activation"] = Activation.Name, ["use_bias"] = UseBias,
        ["kernel_initializer"] = KernelInitializer.Name, ["bias_initializer"] = BiasInitializer.Name,
    }.WithRegularizers(KernelRegularizer, BiasRegularizer);
}

/// <summary>Applies an activation function (Keras's Activation layer).</summary>
public sealed class Activation(ActivationFunction function, int[]? inputShape = null, string? name = null) : Layer(name, inputShape)
{
    public ActivationFunction Function { get; } = function ?? throw new ArgumentNullException(nameof(function));

    public override int[] ComputeOutputShape(int[] inputShape)
    {
        if (!Function.IsElementwise && inputShape.Length != 1)
            throw new ArgumentException($"{Function.Name} in layer `{Name}` works on vectors; input items have shape {Tensor.ShapeToString(inputShape)}. Add a Flatten layer before it.");
        return inputShape;
    }

    public override Node Call(Node input, TrainingSwitch? training = null) => Function.Call(input);

    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?> { ["name"] = Name, ["activation"] = Function.Name };
}

/// <summary>Flattens each item to a vector: (batch, 28, 28) becomes (batch, 784). No copy.</summary>
public sealed class Flatten(int[]? inputShape = null, string? name = null) : Layer(name, inputShape)
{
    public override int[] ComputeOutputShape(int[] inputShape) => [Tensor.ProductOf(inputShape)];

    public override Node Call(Node input, TrainingSwitch? training = null) => Ops.Reshape(input, -1, OutputShape[0]);

    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?> { ["name"] = Name };
}

/// <summary>y = x·scale + offset (Keras's Rescaling): with scale 1/255, a model takes raw 0..255 pixels and sees [0, 1].</summary>
public sealed class Rescaling(float scale, float offset = 0f, int[]? inputShape = null, string? name = null) : Layer(name, inputShape)
{
    public float Scale { get; } = scale;
    public float Offset { get; } = offset;

    public override int[] ComputeOutputShape(int[] inputShape) => inputShape;

    public override Node Call(Node input, TrainingSwitch? training = null)
    {
        var y = Ops.Scale(input, Scale);
        return Offset == 0 ? y : y + Offset;
    }

    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?> { ["name"] = Name, ["scale"] = Scale, ["offset"] = Offset };
}
