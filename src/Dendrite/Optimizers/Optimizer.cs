using System.Numerics.Tensors;

namespace Dendrite.Optimizers;

/// <summary>Updates variables from their gradients. <see cref="Minimize"/> is the TensorFlow tutorial's optimizer.minimize(loss).</summary>
public abstract class Optimizer
{
    private readonly Dictionary<Node, Variable[]> _variablesOf = new(ReferenceEqualityComparer.Instance);
    private float _learningRate;

    protected Optimizer(float learningRate) => LearningRate = learningRate;

    public float LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value > 0) || float.IsInfinity(value))
                throw new ArgumentOutOfRangeException(nameof(LearningRate), value, $"Invalid value received for argument `learning_rate`. Expected a positive finite number. Received: learning_rate={value}.");
            _learningRate = value;
        }
    }

    /// <summary>Updates applied so far.</summary>
    public long Iterations { get; protected set; }

    public abstract string Name { get; }

    /// <summary>Runs forward and backward on <paramref name="loss"/>, then updates every trainable variable it depends on.</summary>
    public void Minimize(Node loss)
    {
        loss.Backward();
        if (!_variablesOf.TryGetValue(loss, out var vars))
            _variablesOf[loss] = vars = loss.Order.OfType<Variable>().Where(v => v.Trainable).ToArray();
        Step(vars);
    }

    /// <summary>Updates each variable that received a gradient in the last backward pass.</summary>
    public void Step(IReadOnlyList<Variable> variables)
    {
        for (int i = 0; i < variables.Count; i++)
        {
            var v = variables[i];
            if (v.Trainable && v.GradWritten) Update(v, v.Value.Span, v.Grad.Span);
        }
        Iterations++;
    }

    /// <summary>Applies one update to <paramref name="w"/> from its gradient <paramref name="g"/>.</summary>
    protected abstract void Update(Variable v, Span<float> w, ReadOnlySpan<float> g);

    public static implicit operator Optimizer(string name) => name.ToLowerInvariant() switch
    {
        "sgd" => new SGD(),
        _ => throw new ArgumentException($"Invalid value received for argument `optimizer`. Expected one of sgd. Received: optimizer={name}."),
    };
}

/// <summary>
/// Mini-batch stochastic gradient descent, as Keras defines it: without momentum w -= lr·g;
/// with momentum m, v = m·v - lr·g and w += v; with Nesterov, w += m·v - lr·g.
/// </summary>
public sealed class SGD : Optimizer
{
    private readonly Dictionary<Variable, float[]> _velocity = new(ReferenceEqualityComparer.Instance);

    public SGD(float learningRate = 0.01f, float momentum = 0f, bool nesterov = false) : base(learningRate)
    {
        if (!(momentum >= 0 && momentum < 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"Invalid value received for argument `momentum`. Expected a number in [0, 1). Received: momentum={momentum}.");
        Momentum = momentum;
        Nesterov = nesterov;
    }

    public float Momentum { get; }
    public bool Nesterov { get; }
    public override string Name => "SGD";

    protected override void Update(Variable v, Span<float> w, ReadOnlySpan<float> g)
    {
        float lr = LearningRate;
        if (Momentum == 0)
        {
            TensorPrimitives.MultiplyAdd(g, -lr, w, w);
            return;
        }
        if (!_velocity.TryGetValue(v, out var vel)) _velocity[v] = vel = new float[w.Length];
        var vs = vel.AsSpan(0, w.Length);
        float m = Momentum;
        for (int i = 0; i < w.Length; i++)
        {
            float nv = m * vs[i] - lr * g[i];
            vs[i] = nv;
            w[i] += Nesterov ? m * nv - lr * g[i] : nv;
        }
    }
}
