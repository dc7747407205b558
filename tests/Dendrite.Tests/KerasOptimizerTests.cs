using Dendrite.Callbacks;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;

namespace Dendrite.Tests;

public class KerasOptimizerTests
{
    private static (Data.Dataset Train, Data.Dataset Test) Data => ModelTests.Data.Value;

    /// <summary>Keras's Adam, step by step in double precision, for the loss Σ c·w² (gradient 2·c·w).</summary>
    private static double[][] AdamReference(double[] w0, double[] c, double lr, double b1, double b2, double eps, bool amsgrad, int steps)
    {
        var w = (double[])w0.Clone();
        var m = new double[w.Length]; var v = new double[w.Length]; var vhat = new double[w.Length];
        var result = new double[steps][];
        for (int t = 1; t <= steps; t++)
        {
            double alpha = lr * Math.Sqrt(1 - Math.Pow(b2, t)) / (1 - Math.Pow(b1, t));
            for (int i = 0; i < w.Length; i++)
            {
                double g = 2 * c[i] * w[i];
                m[i] += (g - m[i]) * (1 - b1);
                v[i] += (g * g - v[i]) * (1 - b2);
                vhat[i] = Math.Max(vhat[i], v[i]);
                w[i] -= m[i] * alpha / (Math.Sqrt(amsgrad ? vhat[i] : v[i]) + eps);
            }
            result[t - 1] = (double[])w.Clone();
        }
        return result;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AdamsFirstThreeUpdatesAreKerasAdams(bool amsgrad)
    {
        // 19 values: the vector loop and its scalar tail both run. Mixed signs and scales; some gradients shrink, so amsgrad's max matters.
        var w0 = Enumerable.Range(0, 19).Select(i => (i % 3 - 1) * 0.37 + i * 0.05 - 0.2).ToArray();
        var c = Enumerable.Range(0, 19).Select(i => 0.5 + (i % 5) * 1.5).ToArray();
        var w = new Variable(new Tensor(w0.Select(x => (float)x).ToArray(), 19));
        var loss = Ops.Sum(Ops.Multiply(new Constant(new Tensor(c.Select(x => (float)x).ToArray(), 19)), Ops.Square(w)));
        var adam = new Adam(learningRate: 0.05f, beta1: 0.8f, beta2: 0.95f, epsilon: 1e-3f, amsgrad: amsgrad);
        var reference = AdamReference(w0, c, 0.05, 0.8f, 0.95f, 1e-3f, amsgrad, 3);
        for (int step = 0; step < 3; step++)
        {
            adam.Minimize(loss);
            var got = w.Value.ToArray();
            for (int i = 0; i < got.Length; i++) Assert.True(Math.Abs(got[i] - reference[step][i]) <= 1e-6, $"step {step + 1}, w[{i}]: {got[i]} vs {reference[step][i]}");
        }
        Assert.Equal(3, adam.Iterations);
    }

    /// <summary>
    /// Runs <paramref name="optimizer"/> three steps on Σ c·w² and compares each step with <paramref name="reference"/>,
    /// Keras's update written out in double precision: (w, g, t, state) updates w in place for step t.
    /// </summary>
    private static void FirstThreeUpdates(Optimizer optimizer, Action<double[], double[], int, double[][]> reference, float init = 0)
    {
        var w0 = Enumerable.Range(0, 19).Select(i => (i % 3 - 1) * 0.37 + i * 0.05 - 0.2).ToArray();
        var c = Enumerable.Range(0, 19).Select(i => 0.5 + (i % 5) * 1.5).ToArray();
        var w = new Variable(new Tensor(w0.Select(x => (float)x).ToArray(), 19));
        var loss = Ops.Sum(Ops.Multiply(new Constant(new Tensor(c.Select(x => (float)x).ToArray(), 19)), Ops.Square(w)));
        var rw = (double[])w0.Clone();
        var state = Enumerable.Range(0, 3).Select(_ => Enumerable.Repeat((double)init, 19).ToArray()).ToArray();
        for (int t = 1; t <= 3; t++)
        {
            optimizer.Minimize(loss);
            reference(rw, rw.Select((x, i) => 2 * c[i] * x).ToArray(), t, state);
            var got = w.Value.ToArray();
            for (int i = 0; i < got.Length; i++) Assert.True(Math.Abs(got[i] - rw[i]) <= 1e-6, $"{optimizer.Name} step {t}, w[{i}]: {got[i]} vs {rw[i]}");
        }
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.7f)]
    public void RmspropsFirstThreeUpdatesAreKerasRmsprops(float momentum) =>
        FirstThreeUpdates(new RMSprop(0.01f, rho: 0.8f, momentum: momentum, epsilon: 1e-3f), (w, g, t, s) =>
        {
            for (int i = 0; i < w.Length; i++)
            {
                s[0][i] = 0.8f * s[0][i] + (1 - 0.8f) * g[i] * g[i];
                double step = 0.01f * g[i] / Math.Sqrt(s[0][i] + 1e-3f);
                if (momentum != 0) step = s[1][i] = momentum * s[1][i] + step;
                w[i] -= step;
            }
        });

    [Fact]
    public void AdagradsFirstThreeUpdatesAreKerasAdagrads() =>
        FirstThreeUpdates(new Adagrad(0.05f, initialAccumulatorValue: 0.2f, epsilon: 1e-3f), (w, g, t, s) =>
        {
            for (int i = 0; i < w.Length; i++)
            {
                s[0][i] += g[i] * g[i];
                w[i] -= 0.05f * g[i] / Math.Sqrt(s[0][i] + 1e-3f);
            }
        }, init: 0.2f);

    [Fact]
    public void AdadeltasFirstThreeUpdatesAreKerasAdadeltas()
    {
        var s1 = new double[19];   // the delta accumulator starts at zero, the gradient one too
        FirstThreeUpdates(new Adadelta(1f, rho: 0.9f, epsilon: 1e-3f), (w, g, t, s) =>
        {
            for (int i = 0; i < w.Length; i++)
            {
                s[0][i] = 0.9f * s[0][i] + (1 - 0.9f) * g[i] * g[i];
                double d = -Math.Sqrt(s1[i] + 1e-3f) * g[i] / Math.Sqrt(s[0][i] + 1e-3f);
                s1[i] = 0.9f * s1[i] + (1 - 0.9f) * d * d;
                w[i] += d;
            }
        });
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    [InlineData("rmsprop")]
    [InlineData("adagrad")]
    [InlineData("adadelta")]
    public void EveryOptimizerStepAllocatesNothingOnceItsSlotsExist(string name)
    {
        Optimizer o = name;
        var w = new Variable(new Tensor(Enumerable.Range(0, 100).Select(i => i * 0.01f).ToArray(), 100));
        var loss = Ops.Sum(Ops.Square(w));
        var step = o.Minimize(loss);
        step.Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) step.Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(22, o.Iterations);
        Assert.Equal(o.GetType(), Optimizer.FromConfig(o.Name, (n, _) => o.GetConfig().FirstOrDefault(c => c.Name == n).Value).GetType());
    }

    /// <summary>Each optimizer's settings and state survive a checkpoint: the resumed run ends bit for bit where the whole one did.</summary>
    [Theory]
    [InlineData("sgd")]
    [InlineData("rmsprop")]
    [InlineData("adagrad")]
    [InlineData("adadelta")]
    public void EveryOptimizerResumesExactly(string name)
    {
        using var dir = new TempDir();
        var train = Data.Train.Take(120);
        Sequential Fresh()
        {
            var m = new Sequential(new Flatten(inputShape: [28, 28]), new Rescaling(1f / 255), new Dense(8, "relu"), new Dense(10, "softmax")) { Seed = 5 };
            Optimizer o = name switch { "rmsprop" => new RMSprop(momentum: 0.5f), "sgd" => new SGD(0.05f, 0.9f, nesterov: true), _ => name };
            m.Compile("categorical_crossentropy", o, ["accuracy"]);
            return m;
        }
        var whole = Fresh();
        var h1 = whole.Fit(train, batchSize: 20, epochs: 2, verbose: 0, seed: 4);
        var part = Fresh();
        part.Fit(train, batchSize: 20, epochs: 2, verbose: 0, seed: 4, callbacks: [new StopAt(epoch: 2, step: 2)]);
        part.SaveCheckpoint(dir.File("ckpt.dendrite"));
        var resumed = Sequential.LoadCheckpoint(dir.File("ckpt.dendrite"), out var state);
        Assert.Equal(part.Optimizer!.GetType(), resumed.Optimizer!.GetType());
        Assert.Equal(part.Optimizer.GetConfig(), resumed.Optimizer.GetConfig());
        var h2 = resumed.Fit(train, verbose: 0, resumeFrom: state);
        Assert.Equal(whole.Weights.SelectMany(w => w.Value.ToArray()), resumed.Weights.SelectMany(w => w.Value.ToArray()));
        Assert.Equal(h1.BatchLoss, h2.BatchLoss);
    }

    [Fact]
    public void AdamHasKerasDefaultsAndIsNamedByString()
    {
        Optimizer o = "adam";
        var adam = Assert.IsType<Adam>(o);
        Assert.Equal((0.001f, 0.9f, 0.999f, 1e-7f, false), (adam.LearningRate, adam.Beta1, adam.Beta2, adam.Epsilon, adam.Amsgrad));
        Assert.IsType<Adam>((Optimizer)"Adam");
        var e = Assert.Throws<ArgumentException>(() => (Optimizer)"adamm");
        Assert.Contains("sgd, adam, rmsprop, adagrad, adadelta", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam(beta1: 1f));
    }

    /// <summary>Conv2D, BatchNormalization and Dense weights are all trained by Adam, and a resumed run (Adam's m, v, v̂ and step count from the checkpoint) ends bit for bit where the whole run did.</summary>
    [Fact]
    public void AdamTrainsEveryLayerAndResumesExactly()
    {
        using var dir = new TempDir();
        var train = Data.Train.Take(200);
        Sequential Fresh()
        {
            var m = new Sequential(new Reshape([28, 28, 1], inputShape: [28, 28]), new Rescaling(1f / 255),
                new Conv2D(4, 3, strides: 2, activation: "relu"), new BatchNormalization(), new MaxPooling2D(2),
                new Flatten(), new Dropout(0.2f), new Dense(10, "softmax")) { Seed = 3 };
            m.Compile("categorical_crossentropy", new Adam(0.01f, amsgrad: true), ["accuracy"]);
            return m;
        }
        var whole = Fresh();
        whole.Build([28, 28]);
        var before = whole.Weights.Where(w => w.Trainable).Select(w => w.Value.ToArray()).ToList();
        var h1 = whole.Fit(train, batchSize: 20, epochs: 2, verbose: 0, seed: 4);
        var after = whole.Weights.Where(w => w.Trainable).ToList();
        Assert.Equal(6, after.Count);   // conv kernel and bias, gamma, beta, dense kernel and bias
        for (int i = 0; i < after.Count; i++) Assert.NotEqual(before[i], after[i].Value.ToArray());

        var part = Fresh();
        part.Fit(train, batchSize: 20, epochs: 2, verbose: 0, seed: 4, callbacks: [new StopAt(epoch: 2, step: 3)]);
        part.SaveCheckpoint(dir.File("ckpt.dendrite"));
        var resumed = Sequential.LoadCheckpoint(dir.File("ckpt.dendrite"), out var state);
        var adam = Assert.IsType<Adam>(resumed.Optimizer);
        Assert.True(adam.Amsgrad);
        Assert.Equal(13, adam.Iterations);
        var h2 = resumed.Fit(train, verbose: 0, resumeFrom: state);
        Assert.Equal(whole.Weights.SelectMany(w => w.Value.ToArray()), resumed.Weights.SelectMany(w => w.Value.ToArray()));
        Assert.Equal(h1.BatchLoss, h2.BatchLoss);
    }

    private sealed class StopAt(int epoch, int step) : Callback
    {
        private Sequential? _m;
        public override void OnTrainBegin(Sequential model, TrainingInfo info) => _m = model;
        public override void OnBatchEnd(int e, in BatchLogs logs) { if (e == epoch && logs.Step == step) _m!.StopTraining = true; }
    }
}
