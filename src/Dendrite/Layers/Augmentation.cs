namespace Dendrite.Layers;

/// <summary>
/// What Keras's random image layers share: while training, each image of the batch is resampled under a random
/// affine transform drawn from (seed, training step, image) only, so a seeded run and a resumed one see the same
/// images; in Evaluate and Predict the layer is the identity. Items are channels-last images (height, width,
/// channels), or (height, width) for one channel. fill_mode is "reflect" (default), "constant", "nearest" or "wrap";
/// interpolation "bilinear" (default) or "nearest"; fill_value is what "constant" fills with.
/// </summary>
public abstract class RandomAffineLayer : Layer
{
    private protected RandomAffineLayer(string fillMode, string interpolation, int? seed, float fillValue, int[]? inputShape, string? name) : base(name, inputShape)
    {
        ArgumentNullException.ThrowIfNull(fillMode);
        ArgumentNullException.ThrowIfNull(interpolation);
        Fill = fillMode.ToLowerInvariant() switch
        {
            "reflect" => Dendrite.FillMode.Reflect,
            "constant" => Dendrite.FillMode.Constant,
            "nearest" => Dendrite.FillMode.Nearest,
            "wrap" => Dendrite.FillMode.Wrap,
            _ => throw new ArgumentException($"Invalid value received for argument `fill_mode`. Expected one of reflect, constant, nearest, wrap. Received: fill_mode={fillMode}.", nameof(fillMode)),
        };
        Sampling = interpolation.ToLowerInvariant() switch
        {
            "bilinear" => Dendrite.Interpolation.Bilinear,
            "nearest" => Dendrite.Interpolation.Nearest,
            _ => throw new ArgumentException($"Invalid value received for argument `interpolation`. Expected bilinear or nearest. Received: interpolation={interpolation}.", nameof(interpolation)),
        };
        if (seed < 0) throw new ArgumentOutOfRangeException(nameof(seed), seed, $"Invalid value received for argument `seed`. Expected a non-negative integer. Received: seed={seed}.");
        if (!float.IsFinite(fillValue)) throw new ArgumentOutOfRangeException(nameof(fillValue), fillValue, $"Invalid value received for argument `fill_value`. Expected a finite number. Received: fill_value={fillValue}.");
        Seed = seed;
        FillValue = fillValue;
    }

    /// <summary>Keras's fill_mode, as an enum.</summary>
    public FillMode Fill { get; }

    /// <summary>Keras's interpolation, as an enum.</summary>
    public Interpolation Sampling { get; }

    /// <summary>Keras's fill_mode: reflect, constant, nearest or wrap.</summary>
    public string FillMode => Fill.ToString().ToLowerInvariant();

    /// <summary>Keras's interpolation: bilinear or nearest.</summary>
    public string Interpolation => Sampling.ToString().ToLowerInvariant();

    public float FillValue { get; }

    /// <summary>The seed of the transforms; drawn from the model's seed when the layer is built if none was given.</summary>
    public int? Seed { get; private set; }

    /// <summary>The ranges this layer draws from.</summary>
    private protected abstract AffineRanges Ranges { get; }

    public override int[] ComputeOutputShape(int[] inputShape) => inputShape.Length is 2 or 3 ? inputShape
        : throw new ArgumentException($"{GetType().Name} layer `{Name}` takes images of shape (height, width, channels) or (height, width), but its input items have shape {Tensor.ShapeToString(inputShape)}.");

    protected override void CreateWeights(int[] inputShape, Rng rng) => Seed ??= rng.NextInt(int.MaxValue);

    public override Node Call(Node input, TrainingSwitch? training = null) =>
        new RandomAffine2DOp(input, Ranges, Fill, Sampling, FillValue, training, (ulong)(Seed ?? throw new InvalidOperationException($"Layer `{Name}` is not built yet.")));

    /// <summary>The settings every random image layer has, after its own.</summary>
    private protected Dictionary<string, object?> Config(params (string Key, object? Value)[] own)
    {
        var c = new Dictionary<string, object?> { ["name"] = Name };
        foreach (var (k, v) in own) c[k] = v;
        c["fill_mode"] = FillMode; c["interpolation"] = Interpolation; c["seed"] = Seed; c["fill_value"] = FillValue;
        return c;
    }

    private protected static float[] Pair(FactorRange r) => [r.Lower, r.Upper];
}

/// <summary>
/// Keras's RandomTranslation: while training, shifts each image by a fraction of its height drawn from heightFactor
/// (negative: up, positive: down) and of its width from widthFactor (negative: left, positive: right). A single value
/// f means (-f, f): RandomTranslation(0.1, 0.1) shifts by up to 10% each way.
/// </summary>
public sealed class RandomTranslation : RandomAffineLayer
{
    public RandomTranslation(FactorRange heightFactor, FactorRange widthFactor, string fillMode = "reflect", string interpolation = "bilinear",
        int? seed = null, float fillValue = 0f, int[]? inputShape = null, string? name = null)
        : base(fillMode, interpolation, seed, fillValue, inputShape, name)
    {
        heightFactor.CheckWithinOne("height_factor");
        widthFactor.CheckWithinOne("width_factor");
        HeightFactor = heightFactor; WidthFactor = widthFactor;
    }

    public FactorRange HeightFactor { get; }
    public FactorRange WidthFactor { get; }

    private protected override AffineRanges Ranges => new(HeightFactor, WidthFactor, 0f, 0f, null);

    public override IReadOnlyDictionary<string, object?> GetConfig() => Config(("height_factor", Pair(HeightFactor)), ("width_factor", Pair(WidthFactor)));
}

/// <summary>
/// Keras's RandomRotation: while training, rotates each image about its centre by a fraction of a full turn (2π) drawn
/// from factor, positive counter-clockwise. RandomRotation(0.05) turns by up to ±18°.
/// </summary>
public sealed class RandomRotation : RandomAffineLayer
{
    public RandomRotation(FactorRange factor, string fillMode = "reflect", string interpolation = "bilinear",
        int? seed = null, float fillValue = 0f, int[]? inputShape = null, string? name = null)
        : base(fillMode, interpolation, seed, fillValue, inputShape, name)
    {
        factor.CheckWithinOne("factor");
        Factor = factor;
    }

    public FactorRange Factor { get; }

    private protected override AffineRanges Ranges => new(0f, 0f, Factor, 0f, null);

    public override IReadOnlyDictionary<string, object?> GetConfig() => Config(("factor", Pair(Factor)));
}

/// <summary>
/// Keras's RandomZoom: while training, scales each image about its centre. The sampling grid is stretched by 1 + a value
/// drawn from heightFactor, so positive values zoom out and negative ones zoom in; widthFactor does the same across, or,
/// when null (the default), the width takes the height's scale and the aspect ratio is kept.
/// </summary>
public sealed class RandomZoom : RandomAffineLayer
{
    public RandomZoom(FactorRange heightFactor, FactorRange? widthFactor = null, string fillMode = "reflect", string interpolation = "bilinear",
        int? seed = null, float fillValue = 0f, int[]? inputShape = null, string? name = null)
        : base(fillMode, interpolation, seed, fillValue, inputShape, name)
    {
        heightFactor.CheckWithinOne("height_factor");
        widthFactor?.CheckWithinOne("width_factor");
        HeightFactor = heightFactor; WidthFactor = widthFactor;
    }

    public FactorRange HeightFactor { get; }
    public FactorRange? WidthFactor { get; }

    private protected override AffineRanges Ranges => new(0f, 0f, 0f, HeightFactor, WidthFactor);

    public override IReadOnlyDictionary<string, object?> GetConfig() =>
        Config(("height_factor", Pair(HeightFactor)), ("width_factor", WidthFactor is { } w ? Pair(w) : null));
}
