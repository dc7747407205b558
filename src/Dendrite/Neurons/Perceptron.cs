namespace Dendrite.Neurons;

/// <summary>
/// Rosenblatt's perceptron, where the tutorials start: output 1 when w·x + b &gt; 0, else 0.
/// With threshold t = -b that is Nielsen's "1 if Σ w_j x_j &gt; threshold". It learns with the
/// perceptron rule: after each example, w += η(y - ŷ)x and b += η(y - ŷ).
/// </summary>
/// <remarks>
/// A threshold and a bias are the same number with opposite signs, so the constructor makes you say which you
/// mean: <c>new Perceptron([4, 3], threshold: 4)</c> or <c>new Perceptron([4, 3], bias: -4)</c> (the same perceptron).
/// A bare <c>new Perceptron([4, 3], 4)</c> does not compile (the call is ambiguous between the two).
/// </remarks>
public sealed class Perceptron
{
    /// <summary>A perceptron that fires when w·x &gt; <paramref name="threshold"/> (bias = -threshold).</summary>
    public Perceptron(float[] weights, PerceptronThreshold threshold) : this(weights, -threshold.Value, 0) { }

    /// <summary>A perceptron that fires when w·x + <paramref name="bias"/> &gt; 0 (threshold = -bias).</summary>
    public Perceptron(float[] weights, PerceptronBias bias) : this(weights, bias.Value, 0) { }

    private Perceptron(float[] weights, float bias, int _)
    {
        ArgumentNullException.ThrowIfNull(weights);
        Weights = (float[])weights.Clone();
        Bias = bias;
    }

    /// <summary>A perceptron given by weights and a threshold (bias = -threshold).</summary>
    public static Perceptron WithThreshold(float[] weights, float threshold) => new(weights, -threshold, 0);

    /// <summary>A perceptron given by weights and a bias (threshold = -bias).</summary>
    public static Perceptron WithBias(float[] weights, float bias) => new(weights, bias, 0);

    public float[] Weights { get; }
    public float Bias { get; private set; }
    public float Threshold => -Bias;

    /// <summary>w·x + b.</summary>
    public float WeightedSum(ReadOnlySpan<float> x)
    {
        if (x.Length != Weights.Length) throw new ArgumentException($"The perceptron has {Weights.Length} inputs; received {x.Length}.", nameof(x));
        float s = Bias;
        for (int i = 0; i < x.Length; i++) s += Weights[i] * x[i];
        return s;
    }

    /// <summary>The step output: 1 when w·x + b &gt; 0, else 0.</summary>
    public int Output(ReadOnlySpan<float> x) => WeightedSum(x) > 0 ? 1 : 0;

    /// <summary>
    /// Applies the perceptron rule for up to <paramref name="epochs"/> passes, stopping after a pass with no
    /// mistakes. Returns the mistakes made in each pass (the last is 0 when the data is linearly separable).
    /// </summary>
    public List<int> Train(IReadOnlyList<float[]> inputs, IReadOnlyList<int> labels, float learningRate = 1f, int epochs = 100)
    {
        if (inputs.Count != labels.Count) throw new ArgumentException($"{inputs.Count} inputs but {labels.Count} labels.");
        var mistakes = new List<int>();
        for (int e = 0; e < epochs; e++)
        {
            int wrong = 0;
            for (int i = 0; i < inputs.Count; i++)
            {
                int y = labels[i];
                if (y is not (0 or 1)) throw new ArgumentOutOfRangeException(nameof(labels), $"Label {y} at index {i}: a perceptron's labels are 0 or 1.");
                int err = y - Output(inputs[i]);
                if (err == 0) continue;
                wrong++;
                for (int j = 0; j < Weights.Length; j++) Weights[j] += learningRate * err * inputs[i][j];
                Bias += learningRate * err;
            }
            mistakes.Add(wrong);
            if (wrong == 0) break;
        }
        return mistakes;
    }
}

/// <summary>
/// A sigmoid neuron: σ(w·x + b), σ(z) = 1 / (1 + e^-z). Small changes in w and b make small changes in the
/// output, which is what lets gradient descent learn; trained here on the quadratic cost ½(σ - y)².
/// </summary>
public sealed class SigmoidNeuron
{
    public SigmoidNeuron(float[] weights, float bias)
    {
        ArgumentNullException.ThrowIfNull(weights);
        Weights = (float[])weights.Clone();
        Bias = bias;
    }

    public float[] Weights { get; }
    public float Bias { get; private set; }

    public float Output(ReadOnlySpan<float> x)
    {
        if (x.Length != Weights.Length) throw new ArgumentException($"The neuron has {Weights.Length} inputs; received {x.Length}.", nameof(x));
        float z = Bias;
        for (int i = 0; i < x.Length; i++) z += Weights[i] * x[i];
        return 1f / (1f + MathF.Exp(-z));
    }

    /// <summary>
    /// Full-batch gradient descent on the mean quadratic cost: ∂C/∂w = mean (a - y)·a(1 - a)·x.
    /// Returns the cost after each epoch.
    /// </summary>
    public List<float> Train(IReadOnlyList<float[]> inputs, IReadOnlyList<float> targets, float learningRate = 1f, int epochs = 1000)
    {
        if (inputs.Count != targets.Count) throw new ArgumentException($"{inputs.Count} inputs but {targets.Count} targets.");
        var costs = new List<float>(epochs);
        var gw = new float[Weights.Length];
        for (int e = 0; e < epochs; e++)
        {
            Array.Clear(gw);
            float gb = 0, cost = 0;
            for (int i = 0; i < inputs.Count; i++)
            {
                float a = Output(inputs[i]), d = (a - targets[i]) * a * (1 - a);
                cost += 0.5f * (a - targets[i]) * (a - targets[i]);
                for (int j = 0; j < gw.Length; j++) gw[j] += d * inputs[i][j];
                gb += d;
            }
            float n = Math.Max(1, inputs.Count);
            for (int j = 0; j < gw.Length; j++) Weights[j] -= learningRate * gw[j] / n;
            Bias -= learningRate * gb / n;
            costs.Add(cost / n);
        }
        return costs;
    }
}

/// <summary>A perceptron's threshold: it fires when w·x exceeds it. Written <c>threshold: 4</c> in <see cref="Perceptron"/>'s constructor.</summary>
public readonly record struct PerceptronThreshold(float Value)
{
    public static implicit operator PerceptronThreshold(float value) => new(value);
}

/// <summary>A perceptron's bias: it fires when w·x + bias &gt; 0. Written <c>bias: -4</c> in <see cref="Perceptron"/>'s constructor.</summary>
public readonly record struct PerceptronBias(float Value)
{
    public static implicit operator PerceptronBias(float value) => new(value);
}
