namespace Dendrite;

/// <summary>
/// How a weight tensor gets its first values, named as in Keras. Fans follow Keras's compute_fans:
/// for a kernel [in, out], fan_in = in and fan_out = out; for a vector, both are its length.
/// </summary>
public sealed class Initializer
{
    private enum Kinds { GlorotUniform, GlorotNormal, HeUniform, HeNormal, RandomNormal, RandomUniform, TruncatedNormal, Constant }

    private readonly Kinds _kind;
    private readonly float _a, _b;

    private Initializer(string name, Kinds kind, float a = 0, float b = 0) { Name = name; _kind = kind; _a = a; _b = b; }

    public string Name { get; }

    /// <summary>U(-l, l) with l = sqrt(6 / (fan_in + fan_out)). Keras's default for Dense kernels.</summary>
    public static readonly Initializer GlorotUniform = new("glorot_uniform", Kinds.GlorotUniform);
    /// <summary>Normal truncated at 2σ, σ = sqrt(2 / (fan_in + fan_out)) / 0.87962566 (Keras corrects for the truncation).</summary>
    public static readonly Initializer GlorotNormal = new("glorot_normal", Kinds.GlorotNormal);
    /// <summary>U(-l, l) with l = sqrt(6 / fan_in).</summary>
    public static readonly Initializer HeUniform = new("he_uniform", Kinds.HeUniform);
    /// <summary>Normal truncated at 2σ, σ = sqrt(2 / fan_in) / 0.87962566.</summary>
    public static readonly Initializer HeNormal = new("he_normal", Kinds.HeNormal);
    /// <summary>N(0, 0.05²), as Keras's default RandomNormal.</summary>
    public static readonly Initializer RandomNormalDefault = RandomNormal(0f, 0.05f);
    /// <summary>N(0, 0.05²) truncated at 2σ, as Keras's default TruncatedNormal.</summary>
    public static readonly Initializer TruncatedNormalDefault = TruncatedNormal(0f, 0.05f);
    /// <summary>All zeros. Keras's default for biases.</summary>
    public static readonly Initializer Zeros = new("zeros", Kinds.Constant, 0f);
    /// <summary>All ones.</summary>
    public static readonly Initializer Ones = new("ones", Kinds.Constant, 1f);

    public static Initializer RandomNormal(float mean, float stddev) => new("random_normal", Kinds.RandomNormal, mean, stddev);
    public static Initializer RandomUniform(float min, float max) => new("random_uniform", Kinds.RandomUniform, min, max);
    public static Initializer TruncatedNormal(float mean, float stddev) => new("truncated_normal", Kinds.TruncatedNormal, mean, stddev);
    public static Initializer Constant(float value) => new("constant", Kinds.Constant, value);

    private static readonly Initializer[] Named = [GlorotUniform, GlorotNormal, HeUniform, HeNormal, RandomNormalDefault, TruncatedNormalDefault, Zeros, Ones];

    public static Initializer Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var i in Named) if (i.Name == name.ToLowerInvariant()) return i;
        throw new ArgumentException($"Invalid value received for argument `initializer`. Expected one of {string.Join(", ", Named.Select(i => i.Name))}. Received: initializer={name}.", nameof(name));
    }

    public static implicit operator Initializer(string name) => Get(name);

    internal static Initializer Resolve(Initializer? given, Initializer fallback) => given ?? fallback;

    /// <summary>A new tensor of <paramref name="shape"/> with this initializer's values.</summary>
    public Tensor Create(int[] shape, Rng rng)
    {
        var t = new Tensor(shape);
        Fill(t.Span, shape, rng);
        return t;
    }

    /// <summary>Fills <paramref name="values"/>, laid out as <paramref name="shape"/>.</summary>
    public void Fill(Span<float> values, int[] shape, Rng rng)
    {
        var (fanIn, fanOut) = Fans(shape);
        const double truncationCorrection = 0.87962566103423978; // stddev of N(0,1) truncated to [-2, 2]
        switch (_kind)
        {
            case Kinds.GlorotUniform: Uniform(values, Math.Sqrt(6.0 / (fanIn + fanOut)), rng); break;
            case Kinds.HeUniform: Uniform(values, Math.Sqrt(6.0 / fanIn), rng); break;
            case Kinds.GlorotNormal: Truncated(values, 0, Math.Sqrt(2.0 / (fanIn + fanOut)) / truncationCorrection, rng); break;
            case Kinds.HeNormal: Truncated(values, 0, Math.Sqrt(2.0 / fanIn) / truncationCorrection, rng); break;
            case Kinds.TruncatedNormal: Truncated(values, _a, _b, rng); break;
            case Kinds.RandomNormal:
                for (int i = 0; i < values.Length; i++) values[i] = (float)(_a + _b * rng.NextNormal());
                break;
            case Kinds.RandomUniform:
                for (int i = 0; i < values.Length; i++) values[i] = rng.Uniform(_a, _b);
                break;
            case Kinds.Constant: values.Fill(_a); break;
        }
    }

    private static void Uniform(Span<float> v, double limit, Rng rng)
    {
        for (int i = 0; i < v.Length; i++) v[i] = (float)((2 * rng.NextDouble() - 1) * limit);
    }

    private static void Truncated(Span<float> v, double mean, double stddev, Rng rng)
    {
        for (int i = 0; i < v.Length; i++)
        {
            double z;
            do z = rng.NextNormal(); while (Math.Abs(z) > 2);
            v[i] = (float)(mean + stddev * z);
        }
    }

    internal static (double fanIn, double fanOut) Fans(int[] shape)
    {
        if (shape.Length == 0) return (1, 1);
        if (shape.Length == 1) return (shape[0], shape[0]);
        if (shape.Length == 2) return (shape[0], shape[1]);
        double receptive = 1;
        for (int i = 0; i < shape.Length - 2; i++) receptive *= shape[i];
        return (shape[^2] * receptive, shape[^1] * receptive);
    }

    public override string ToString() => Name;
}
