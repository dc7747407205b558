using System.Globalization;
using System.Numerics.Tensors;

namespace Dendrite.Regularizers;

/// <summary>
/// A weight penalty, as Keras's regularizers: penalty = l1·Σ|w| + l2·Σw², added to the training loss (and so shown in
/// it); its gradient l1·sign(w) + 2·l2·w is added to the weight's gradient. Give one to a layer as
/// <c>kernelRegularizer: new L2(0.01f)</c>, or by Keras's names: <c>"l1"</c>, <c>"l2"</c> (0.01 each), <c>"l1_l2"</c> (0 and 0).
/// </summary>
public abstract class Regularizer
{
    private protected Regularizer(float l1, float l2)
    {
        L1Factor = Checked(l1, "l1");
        L2Factor = Checked(l2, "l2");
    }

    /// <summary>The factor of Σ|w|.</summary>
    public float L1Factor { get; }

    /// <summary>The factor of Σw².</summary>
    public float L2Factor { get; }

    /// <summary>Keras's class name: L1, L2 or L1L2.</summary>
    public abstract string ClassName { get; }

    /// <summary>The settings by Keras's names (L1: l1; L2: l2; L1L2: both).</summary>
    public abstract IReadOnlyList<(string Name, float Value)> GetConfig();

    private static float Checked(float value, string name)
    {
        if (!(value >= 0) || float.IsInfinity(value))
            throw new ArgumentOutOfRangeException(name, value, $"Invalid value received for argument `{name}`. Expected a finite number ≥ 0. Received: {name}={value}.");
        return value;
    }

    /// <summary>l1·Σ|w| + l2·Σw².</summary>
    public double Penalty(ReadOnlySpan<float> w)
    {
        double p = 0;
        if (L1Factor != 0) p += L1Factor * (double)TensorPrimitives.SumOfMagnitudes(w);
        if (L2Factor != 0) p += L2Factor * (double)TensorPrimitives.SumOfSquares(w);
        return p;
    }

    /// <summary>g (+)= scale·(l1·sign(w) + 2·l2·w); with <paramref name="accumulate"/> false, g is overwritten.</summary>
    public void Gradient(ReadOnlySpan<float> w, float scale, Span<float> g, bool accumulate)
    {
        if (!accumulate) g.Clear();
        if (L2Factor != 0) TensorPrimitives.MultiplyAdd(w, 2 * L2Factor * scale, g, g);
        if (L1Factor == 0) return;
        float c = L1Factor * scale;
        for (int i = 0; i < w.Length; i++) g[i] += w[i] > 0 ? c : w[i] < 0 ? -c : 0f;
    }

    /// <summary>The regularizer of Keras class <paramref name="className"/> with the settings <paramref name="setting"/> gives (null: Keras's default).</summary>
    public static Regularizer FromConfig(string className, Func<string, float?> setting) => className switch
    {
        "L1" => new L1(setting("l1") ?? 0.01f),
        "L2" => new L2(setting("l2") ?? 0.01f),
        "L1L2" => new L1L2(setting("l1") ?? 0f, setting("l2") ?? 0f),
        _ => throw new ArgumentException($"Invalid value received for argument `regularizer`. Expected one of L1, L2, L1L2. Received: {className}."),
    };

    /// <summary>Keras's names: "l1" (l1 = 0.01), "l2" (l2 = 0.01), "l1_l2" (0 and 0), or the class names.</summary>
    public static Regularizer Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.ToLowerInvariant() switch
        {
            "l1" => new L1(),
            "l2" => new L2(),
            "l1_l2" or "l1l2" => new L1L2(),
            _ => throw new ArgumentException($"Invalid value received for argument `regularizer`. Expected one of l1, l2, l1_l2. Received: regularizer={name}."),
        };
    }

    public static implicit operator Regularizer(string name) => Get(name);

    /// <summary>As Keras prints it: L2(l2=0.01).</summary>
    public override string ToString() =>
        $"{ClassName}({string.Join(", ", GetConfig().Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Name}={c.Value}")))})";
}

/// <summary>penalty = l1·Σ|w| (Keras's default l1 = 0.01).</summary>
public sealed class L1(float l1 = 0.01f) : Regularizer(l1, 0)
{
    public override string ClassName => "L1";
    public override IReadOnlyList<(string Name, float Value)> GetConfig() => [("l1", L1Factor)];
}

/// <summary>penalty = l2·Σw² (Keras's default l2 = 0.01; no ½, as Keras).</summary>
public sealed class L2(float l2 = 0.01f) : Regularizer(0, l2)
{
    public override string ClassName => "L2";
    public override IReadOnlyList<(string Name, float Value)> GetConfig() => [("l2", L2Factor)];
}

/// <summary>penalty = l1·Σ|w| + l2·Σw² (Keras's defaults: 0 and 0).</summary>
public sealed class L1L2(float l1 = 0f, float l2 = 0f) : Regularizer(l1, l2)
{
    public override string ClassName => "L1L2";
    public override IReadOnlyList<(string Name, float Value)> GetConfig() => [("l1", L1Factor), ("l2", L2Factor)];
}

internal static class RegularizerConfig
{
    /// <summary>A layer config with "kernel_regularizer" and "bias_regularizer" added where set (a file without them means none).</summary>
    public static Dictionary<string, object?> WithRegularizers(this Dictionary<string, object?> config, Regularizer? kernel, Regularizer? bias)
    {
        if (kernel is not null) config["kernel_regularizer"] = kernel;
        if (bias is not null) config["bias_regularizer"] = bias;
        return config;
    }
}
