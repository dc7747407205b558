using System.Text.Json;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;

namespace Dendrite.Tests;

/// <summary>Each optimizer's updates against PyTorch's and against Keras's formulas worked in double precision; checkpoints resume them exactly.</summary>
public class OptimizerTests
{
    internal static readonly float[] W0 = [0.5f, -1.25f, 2f, 0.001f, -0.3f, 1e-4f, 3f, -2f, 0.75f, 0f, 1.5f];

    /// <summary>Three gradients, one per step, with sign changes, zeros after the first step (Adam with ε = 0 divides by √v) and large values.</summary>
    internal static float[][] Gradients() =>
    [
        [0.1f, -0.2f, 0.3f, 1e-3f, 4f, -5f, -0.75f, 0.25f, -0.125f, 1f, 2f],
        [-0.05f, 0.4f, 0.3f, 2e-3f, -4f, 5f, 0.5f, 0.25f, 0.0625f, 1f, -2f],
        [0.2f, 0.1f, -0.3f, 0f, 1f, 0.5f, -0.5f, 0.25f, 0.5f, -1f, 0.01f],
    ];

    /// <summary>Runs <paramref name="opt"/> on one variable for each gradient and returns the weights after each step.</summary>
    internal static float[][] Run(Optimizer opt, float[][] grads)
    {
        var v = new Variable(new Tensor((float[])W0.Clone(), W0.Length), "w");
        var result = new List<float[]>();
        foreach (var g in grads)
        {
            v.Grad.Resize([g.Length]);
            g.CopyTo(v.Grad.Span);
            typeof(Node).GetProperty("GradWritten", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.SetValue(v, true);
            opt.Step([v]);
            result.Add(v.Value.ToArray());
        }
        return [.. result];
    }

    private static float[][] Torch(string name, object settings, float[][] grads)
    {
        string output = Tools.Run("/usr/bin/python3", Tools.Interop("torch_optim.py"), name, JsonSerializer.Serialize(settings),
            JsonSerializer.Serialize(W0), JsonSerializer.Serialize(grads));
        return JsonSerializer.Deserialize<float[][]>(output)!;
    }

    internal static void Close(float[][] expected, float[][] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int s = 0; s < expected.Length; s++)
            for (int i = 0; i < expected[s].Length; i++)
                Assert.True(Math.Abs(expected[s][i] - actual[s][i]) <= tolerance,
                    $"step {s + 1}, weight {i}: expected {expected[s][i]:R}, got {actual[s][i]:R}");
    }

    /// <summary>With ε = 0, Keras's and PyTorch's Adam are the same update: compare with PyTorch, plain and amsgrad.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AdamsFirstThreeUpdatesEqualPyTorchs(bool amsgrad)
    {
        var grads = Gradients();
        var ours = Run(new Adam(0.01f, 0.8f, 0.95f, epsilon: 0f, amsgrad: amsgrad), grads);
        var theirs = Torch("adam", new { lr = 0.01, betas = new[] { 0.8, 0.95 }, eps = 0.0, amsgrad }, grads);
        Close(theirs, ours, 1e-6);
    }

    /// <summary>Keras's Adam with its defaults (ε = 1e-7 added to √v before bias correction), worked in double.</summary>
    [Fact]
    public void AdamFollowsKerasFormulaWithItsDefaults()
    {
        var grads = Gradients();
        var ours = Run(new Adam(), grads);
        double[] w = W0.Select(x => (double)x).ToArray(), m = new double[w.Length], v = new double[w.Length];
        var expected = new float[grads.Length][];
        for (int t = 1; t <= grads.Length; t++)
        {
            double alpha = 0.001 * Math.Sqrt(1 - Math.Pow(0.999, t)) / (1 - Math.Pow(0.9, t));
            for (int i = 0; i < w.Length; i++)
            {
                double g = grads[t - 1][i];
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                w[i] -= alpha * m[i] / (Math.Sqrt(v[i]) + 1e-7);
            }
            expected[t - 1] = w.Select(x => (float)x).ToArray();
        }
        Close(expected, ours, 1e-6);
    }

    /// <summary>AdamW: PyTorch's AdamW decays w·lr·wd before the Adam step, as Keras does; with ε = 0 the two are the same update.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AdamWsFirstThreeUpdatesEqualPyTorchs(bool amsgrad)
    {
        var grads = Gradients();
        var ours = Run(new AdamW(0.01f, weightDecay: 0.1f, beta1: 0.8f, beta2: 0.95f, epsilon: 0f, amsgrad: amsgrad), grads);
        var theirs = Torch("adamw", new { lr = 0.01, weight_decay = 0.1, betas = new[] { 0.8, 0.95 }, eps = 0.0, amsgrad }, grads);
        Close(theirs, ours, 1e-6);
    }

    /// <summary>Keras's AdamW with its defaults (weight_decay 0.004, ε 1e-7 added to √v), worked in double: w -= lr·wd·w, then Adam.</summary>
    [Fact]
    public void AdamWFollowsKerasFormulaWithItsDefaults()
    {
        var grads = Gradients();
        var opt = new AdamW();
        Assert.Equal((0.001f, 0.004f, 0.9f, 0.999f, 1e-7f), (opt.LearningRate, opt.WeightDecay, opt.Beta1, opt.Beta2, opt.Epsilon));
        var ours = Run(opt, grads);
        double[] w = W0.Select(x => (double)x).ToArray(), m = new double[w.Length], v = new double[w.Length];
        var expected = new float[grads.Length][];
        for (int t = 1; t <= grads.Length; t++)
        {
            double alpha = 0.001 * Math.Sqrt(1 - Math.Pow(0.999, t)) / (1 - Math.Pow(0.9, t));
            for (int i = 0; i < w.Length; i++)
            {
                double g = grads[t - 1][i];
                w[i] -= 0.001 * 0.004 * w[i];
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                w[i] -= alpha * m[i] / (Math.Sqrt(v[i]) + 1e-7);
            }
            expected[t - 1] = w.Select(x => (float)x).ToArray();
        }
        Close(expected, ours, 1e-6);
    }

    [Theory]
    [InlineData(0f, false)]
    [InlineData(0.9f, false)]
    [InlineData(0.9f, true)]
    public void SgdsFirstThreeUpdatesEqualPyTorchs(float momentum, bool nesterov)
    {
        var grads = Gradients();
        var ours = Run(new SGD(0.05f, momentum, nesterov), grads);
        var theirs = Torch("sgd", new { lr = 0.05, momentum = (double)momentum, nesterov }, grads);
        Close(theirs, ours, 1e-6);
    }

    [Fact]
    public void OptimizersAreKnownByKerasNames()
    {
        Optimizer adam = "adam";
        var a = Assert.IsType<Adam>(adam);
        Assert.Equal((0.001f, 0.9f, 0.999f, 1e-7f, false), (a.LearningRate, a.Beta1, a.Beta2, a.Epsilon, a.Amsgrad));
        Assert.Equal("Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1E-07, amsgrad=False)", a.ToString());
        var e = Assert.Throws<ArgumentException>(() => { Optimizer o = "adamax"; });
        Assert.Contains("adamax", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta1: 1f));
    }

    /// <summary>AdamW with clipping, interrupted and resumed from its checkpoint, ends where the uninterrupted run does; its settings come back from the file.</summary>
    [Fact]
    public void AdamWWithClippingResumesExactly()
    {
        var train = Dendrite.Data.Mnist.Load().Train.Take(256);
        Sequential Model() => new(new Flatten(inputShape: [28, 28]), new Rescaling(1f / 255),
            new Dense(16, "relu", kernelRegularizer: "l2"), new Dense(10, "softmax")) { Seed = 5 };
        Optimizer Opt() => new AdamW(0.01f, weightDecay: 0.05f) { ClipNorm = 0.5f };
        var whole = Model();
        whole.Compile("categorical_crossentropy", Opt(), ["accuracy"]);
        whole.Fit(train, batchSize: 64, epochs: 2, verbose: 0, seed: 2);

        using var dir = new TempDir();
        var part = Model();
        part.Compile("categorical_crossentropy", Opt(), ["accuracy"]);
        part.Fit(train, batchSize: 64, epochs: 2, verbose: 0, seed: 2, callbacks: [new SerializationTests.StopAt(epoch: 2, step: 1)]);
        part.SaveCheckpoint(dir.File("ckpt.dendrite"));
        var resumed = Sequential.LoadCheckpoint(dir.File("ckpt.dendrite"), out var state);
        var opt = Assert.IsType<AdamW>(resumed.Optimizer);
        Assert.Equal((0.01f, 0.05f, 0.5f), (opt.LearningRate, opt.WeightDecay, opt.ClipNorm));
        Assert.Equal(part.Optimizer!.Iterations, opt.Iterations);
        resumed.Fit(train, verbose: 0, resumeFrom: state);
        foreach (var (a, b) in whole.Weights.Zip(resumed.Weights))
            Assert.Equal(a.Value.ToArray(), b.Value.ToArray());
    }

    /// <summary>
    /// A CNN trained with Adam (and amsgrad) for two epochs, interrupted after one and resumed from its checkpoint, ends
    /// with exactly the weights of the uninterrupted run: the moments, the step count and the settings go into the file.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AdamResumesExactly(bool amsgrad)
    {
        var train = Dendrite.Data.Mnist.Load().Train.Take(256);
        Sequential Model() => new(new Reshape([28, 28, 1], inputShape: [28, 28]), new Rescaling(1f / 255),
            new Conv2D(4, 3, activation: "relu"), new BatchNormalization(), new MaxPooling2D(2), new Flatten(), new Dropout(0.2f),
            new Dense(10, "softmax")) { Seed = 5 };
        var whole = Model();
        whole.Compile("categorical_crossentropy", new Adam(0.01f, amsgrad: amsgrad), ["accuracy"]);
        whole.Fit(train, batchSize: 64, epochs: 2, verbose: 0, seed: 2);

        using var dir = new TempDir();
        var part = Model();
        part.Compile("categorical_crossentropy", new Adam(0.01f, amsgrad: amsgrad), ["accuracy"]);
        part.Fit(train, batchSize: 64, epochs: 2, verbose: 0, seed: 2, callbacks: [new SerializationTests.StopAt(epoch: 2, step: 1)]);
        part.SaveCheckpoint(dir.File("ckpt.dendrite"));
        var resumed = Sequential.LoadCheckpoint(dir.File("ckpt.dendrite"), out var state);
        var opt = Assert.IsType<Adam>(resumed.Optimizer);
        Assert.Equal(amsgrad, opt.Amsgrad);
        Assert.Equal(part.Optimizer!.Iterations, opt.Iterations);
        resumed.Fit(train, verbose: 0, resumeFrom: state);
        foreach (var (a, b) in whole.Weights.Zip(resumed.Weights))
            Assert.Equal(a.Value.ToArray(), b.Value.ToArray());
    }
}
