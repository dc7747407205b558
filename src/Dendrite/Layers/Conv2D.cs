using Dendrite.Regularizers;

namespace Dendrite.Layers;

/// <summary>
/// A 2-D convolution over channels-last images, as Keras's Conv2D: items of shape (height, width, channels) become
/// (outHeight, outWidth, filters), y = f(x ⋆ kernel + bias) with the kernel shaped (kernelHeight, kernelWidth,
/// channels, filters). For 28×28 images, put <c>new Reshape([28, 28, 1])</c> before it.
/// </summary>
public sealed class Conv2D : Layer
{
    private Variable? _kernel, _bias;

    public Conv2D(int filters, Size2D kernelSize, Size2D? strides = null, string padding = "valid", ActivationFunction? activation = null,
        bool useBias = true, Initializer? kernelInitializer = null, Initializer? biasInitializer = null, int[]? inputShape = null, string? name = null,
        Regularizers.Regularizer? kernelRegularizer = null, Regularizers.Regularizer? biasRegularizer = null)
        : base(name, inputShape)
    {
        if (filters <= 0) throw new ArgumentOutOfRangeException(nameof(filters), filters, $"Invalid value received for argument `filters`. Expected a positive integer. Received: filters={filters}.");
        if (kernelSize.Height <= 0 || kernelSize.Width <= 0) throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, $"Invalid value received for argument `kernel_size`. Expected positive integers. Received: kernel_size={kernelSize}.");
        var s = strides ?? new Size2D(1, 1);
        if (s.Height <= 0 || s.Width <= 0) throw new ArgumentOutOfRangeException(nameof(strides), s, $"Invalid value received for argument `strides`. Expected positive integers. Received: strides={s}.");
        Filters = filters;
        KernelSize = kernelSize;
        Strides = s;
        Padding = Pooling2D.ParsePadding(padding);
        Activation = activation ?? ActivationFunction.Linear;
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? Initializer.GlorotUniform;
        BiasInitializer = biasInitializer ?? Initializer.Zeros;
        KernelRegularizer = kernelRegularizer;
        BiasRegularizer = biasRegularizer;
    }

    public int Filters { get; }
    public Size2D KernelSize { get; }
    public Size2D Strides { get; }
    public Padding Padding { get; }
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
        if (inputShape.Length != 3)
            throw new ArgumentException($"Conv2D layer `{Name}` takes images of shape (height, width, channels), but its input items have shape {Tensor.ShapeToString(inputShape)}." +
                (inputShape.Length == 2 ? $" Add a channel axis first: new Reshape([{inputShape[0]}, {inputShape[1]}, 1]) before it (Keras: layers.Reshape(({inputShape[0]}, {inputShape[1]}, 1)))." : ""));
        var g = Window2D.Create(inputShape[0], inputShape[1], inputShape[2], KernelSize, Strides, Padding, $"Conv2D layer `{Name}`");
        return [g.OH, g.OW, Filters];
    }

    public override IReadOnlyList<(string Name, int[] Shape)> WeightShapes(int[] inputShape)
    {
        (string, int[]) kernel = ($"{Name}/kernel", [KernelSize.Height, KernelSize.Width, inputShape[2], Filters]);
        return UseBias ? [kernel, ($"{Name}/bias", [Filters])] : [kernel];
    }

    protected override void CreateWeights(int[] inputShape, Rng rng)
    {
        var shapes = WeightShapes(inputShape);
        _kernel = new Variable(KernelInitializer.Create(shapes[0].Shape, rng), shapes[0].Name);
        _bias = UseBias ? new Variable(BiasInitializer.Create(shapes[1].Shape, rng), shapes[1].Name) : null;
    }

    public override Node Call(Node input, TrainingSwitch? training = null)
    {
        if (Activation.IsElementwise) return Ops.Conv2D(input, Kernel, _bias, Strides, Padding, Activation);
        return Activation.Call(Ops.Conv2D(input, Kernel, _bias, Strides, Padding, ActivationFunction.Linear));
    }

    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>
    {
        ["name"] = Name, ["filters"] = Filters, ["kernel_size"] = new[] { KernelSize.Height, KernelSize.Width },
        ["strides"] = new[] { Strides.Height, Strides.Width }, ["padding"] = Pooling2D.PaddingName(Padding),
        ["activation"] = Activation.Name, ["use_bias"] = UseBias,
        ["kernel_initializer"] = KernelInitializer.Name, ["bias_initializer"] = BiasInitializer.Name,
    }.WithRegularizers(KernelRegularizer, BiasRegularizer);
}
