using System.Numerics.Tensors;

namespace Dendrite;

/// <summary>
/// An activation function by its Keras name: linear, relu, tanh, sigmoid, softmax, log_softmax.
/// Strings convert implicitly, so <c>new Dense(128, activation: "relu")</c> reads as in Keras.
/// </summary>
public sealed class ActivationFunction
{
    internal enum Kinds { Linear, Relu, Tanh, Sigmoid, Softmax, LogSoftmax }

    private ActivationFunction(string name, Kinds kind) { Name = name; Kind = kind; }

    public string Name { get; }
    internal Kinds Kind { get; }

    /// <summary>f(x) = x.</summary>
    public static readonly ActivationFunction Linear = new("linear", Kinds.Linear);
    /// <summary>f(x) = max(x, 0); f'(x) = 1 where x &gt; 0, else 0.</summary>
    public static readonly ActivationFunction Relu = new("relu", Kinds.Relu);
    /// <summary>f(x) = tanh(x); f' = 1 - f².</summary>
    public static readonly ActivationFunction Tanh = new("tanh", Kinds.Tanh);
    /// <summary>f(x) = 1 / (1 + e^-x); f' = f(1 - f).</summary>
    public static readonly ActivationFunction Sigmoid = new("sigmoid", Kinds.Sigmoid);
    /// <summary>f(x)_i = e^(x_i - max x) / Σ_j e^(x_j - max x), over the last axis.</summary>
    public static readonly ActivationFunction Softmax = new("softmax", Kinds.Softmax);
    /// <summary>f(x)_i = x_i - max x - log Σ_j e^(x_j - max x), over the last axis (Keras 3's log_softmax; ONNX LogSoftmax).</summary>
    public static readonly ActivationFunction LogSoftmax = new("log_softmax", Kinds.LogSoftmax);

    private static readonly ActivationFunction[] All = [Linear, Relu, Tanh, Sigmoid, Softmax, LogSoftmax];

    /// <summary>True for functions applied to each element alone (all but softmax and log_softmax).</summary>
    internal bool IsElementwise => Kind is not (Kinds.Softmax or Kinds.LogSoftmax);

    public static ActivationFunction Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var a in All) if (a.Name == name.ToLowerInvariant()) return a;
        throw new ArgumentException($"Invalid value received for argument `activation`. Expected one of {string.Join(", ", All.Select(a => a.Name))}. Received: activation={name}.", nameof(name));
    }

    public static implicit operator ActivationFunction(string name) => Get(name);

    /// <summary>Builds f(x) in a graph.</summary>
    public Node Call(Node x) => Kind switch
    {
        Kinds.Linear => x,
        Kinds.Relu => Ops.Relu(x),
        Kinds.Tanh => Ops.Tanh(x),
        Kinds.Sigmoid => Ops.Sigmoid(x),
        Kinds.LogSoftmax => Ops.LogSoftmax(x),
        _ => Ops.Softmax(x),
    };

    /// <summary>x = f(x) in place, for elementwise functions.</summary>
    internal void ApplyInPlace(Span<float> x)
    {
        switch (Kind)
        {
            case Kinds.Relu: TensorPrimitives.Max(x, 0f, x); break;
            case Kinds.Tanh: TensorPrimitives.Tanh(x, x); break;
            case Kinds.Sigmoid: TensorPrimitives.Sigmoid(x, x); break;
            case Kinds.Linear: break;
            default: throw new InvalidOperationException("softmax is not elementwise");
        }
    }

    /// <summary>dy *= f'(x), written from the output y = f(x), for elementwise functions.</summary>
    internal void MultiplyByDerivative(ReadOnlySpan<float> y, Span<float> dy)
    {
        switch (Kind)
        {
            case Kinds.Relu: Kernels.ReluMask(y, dy); break;
            case Kinds.Tanh: Kernels.TanhGrad(y, dy); break;
            case Kinds.Sigmoid: Kernels.SigmoidGrad(y, dy); break;
            case Kinds.Linear: break;
            default: throw new InvalidOperationException("softmax is not elementwise");
        }
    }

    public override string ToString() => Name;
}
