namespace Dendrite.Layers;

/// <summary>
/// Batch normalisation over the last axis (features, or the channels of images), as Keras's BatchNormalization with
/// its defaults (momentum 0.99, epsilon 1e-3). Training normalises with the batch's statistics and updates the moving
/// ones; Evaluate and Predict use the moving statistics. Weights: gamma and beta (trainable), moving_mean and
/// moving_variance (not trainable, saved with the model and in checkpoints).
/// </summary>
public sealed class BatchNormalization : Layer
{
    private Variable? _gamma, _beta, _mean, _var;

    public BatchNormalization(float momentum = 0.99f, float epsilon = 1e-3f, bool center = true, bool scale = true,
        Initializer? betaInitializer = null, Initializer? gammaInitializer = null,
        Initializer? movingMeanInitializer = null, Initializer? movingVarianceInitializer = null, int axis = -1,
        int[]? inputShape = null, string? name = null) : base(name, inputShape)
    {
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"Invalid value received for argument `momentum`. Expected a number in [0, 1]. Received: momentum={momentum}.");
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"Invalid value received for argument `epsilon`. Expected a positive number. Received: epsilon={epsilon}.");
        if (axis != -1) throw new ArgumentException($"Invalid value received for argument `axis`. Dendrite normalises the last axis (channels-last, as Keras's default). Received: axis={axis}.", nameof(axis));
        Momentum = momentum; Epsilon = epsilon; Center = center; Scale = scale;
        BetaInitializer = betaInitializer ?? Initializer.Zeros;
        GammaInitializer = gammaInitializer ?? Initializer.Ones;
        MovingMeanInitializer = movingMeanInitializer ?? Initializer.Zeros;
        MovingVarianceInitializer = movingVarianceInitializer ?? Initializer.Ones;
    }

    public float Momentum { get; }
    public float Epsilon { get; }
    public bool Center { get; }
    public bool Scale { get; }
    public Initializer BetaInitializer { get; }
    public Initializer GammaInitializer { get; }
    public Initializer MovingMeanInitializer { get; }
    public Initializer MovingVarianceInitializer { get; }

    public Variable? Gamma => _gamma;
    public Variable? Beta => _beta;
    public Variable MovingMean => _mean ?? throw new InvalidOperationException($"Layer `{Name}` is not built yet.");
    public Variable MovingVariance => _var ?? throw new InvalidOperationException($"Layer `{Name}` is not built yet.");

    public override IReadOnlyList<Variable> Weights
    {
        get
        {
            if (_mean is null) return [];
            var list = new List<Variable>(4);
            if (_gamma is not null) list.Add(_gamma);
            if (_beta is not null) list.Add(_beta);
            list.Add(_mean); list.Add(_var!);
            return list;
        }
    }

    public override int[] ComputeOutputShape(int[] inputShape)
    {
        if (inputShape.Length == 0) throw new ArgumentException($"BatchNormalization layer `{Name}` needs items with a feature axis; received scalars.");
        return inputShape;
    }

    public override IReadOnlyList<(string Name, int[] Shape)> WeightShapes(int[] inputShape)
    {
        int c = inputShape[^1];
        var list = new List<(string, int[])>(4);
        if (Scale) list.Add(($"{Name}/gamma", [c]));
        if (Center) list.Add(($"{Name}/beta", [c]));
        list.Add(($"{Name}/moving_mean", [c]));
        list.Add(($"{Name}/moving_variance", [c]));
        return list;
    }

    protected override void CreateWeights(int[] inputShape, Rng rng)
    {
        int c = inputShape[^1];
        _gamma = Scale ? new Variable(GammaInitializer.Create([c], rng), $"{Name}/gamma") : null;
        _beta = Center ? new Variable(BetaInitializer.Create([c], rng), $"{Name}/beta") : null;
        _mean = new Variable(MovingMeanInitializer.Create([c], rng), $"{Name}/moving_mean", trainable: false);
        _var = new Variable(MovingVarianceInitializer.Create([c], rng), $"{Name}/moving_variance", trainable: false);
    }

    public override Node Call(Node input, TrainingSwitch? training = null) =>
        Ops.BatchNormalization(input, _gamma, _beta, MovingMean, MovingVariance, Momentum, Epsilon, training);

    public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>
    {
        ["name"] = Name, ["axis"] = -1, ["momentum"] = Momentum, ["epsilon"] = Epsilon, ["center"] = Center, ["scale"] = Scale,
    };
}
