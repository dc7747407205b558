using Dendrite.Callbacks;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;
using Dendrite.Optimizers.Schedules;

namespace Dendrite.Tests;

/// <summary>Learning-rate schedules against Keras's formulas worked by hand; optimizers follow them step by step, and model files keep them.</summary>
public class ScheduleTests
{
    [Theory]
    [InlineData(0, false, 0.1)]
    [InlineData(5, false, 0.0707106781186548)]     // 0.1 · 0.5^(5/10)
    [InlineData(15, false, 0.0353553390593274)]    // 0.1 · 0.5^1.5
    [InlineData(15, true, 0.05)]                   // staircase: 0.1 · 0.5^1
    [InlineData(20, true, 0.025)]
    public void ExponentialDecayFollowsKerasFormula(long step, bool staircase, double expected) =>
        Assert.Equal(expected, new ExponentialDecay(0.1f, 10, 0.5f, staircase).At(step), 1e-7);

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(100, 1.0)]     // values[0] up to and including the first boundary
    [InlineData(101, 0.5)]
    [InlineData(200, 0.5)]
    [InlineData(201, 0.1)]
    [InlineData(1_000_000, 0.1)]
    public void PiecewiseConstantDecayFollowsKerasBoundaries(long step, double expected) =>
        Assert.Equal(expected, new PiecewiseConstantDecay([100, 200], [1f, 0.5f, 0.1f]).At(step), 1e-7);

    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(25, 0.0868198051533946)]   // 0.1 · (0.9 · ½(1 + cos(π/4)) + 0.1)
    [InlineData(50, 0.055)]                // 0.1 · (0.9 · 0.5 + 0.1)
    [InlineData(100, 0.01)]                // alpha · initial
    [InlineData(5000, 0.01)]               // and stays there
    public void CosineDecayFollowsKerasFormula(long step, double expected) =>
        Assert.Equal(expected, new CosineDecay(0.1f, 100, alpha: 0.1f).At(step), 1e-7);

    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(5, 0.05)]       // linear warm-up from 0 to 0.1 over 10 steps
    [InlineData(10, 0.1)]
    [InlineData(60, 0.05)]      // then the cosine from 0.1 over 100 steps: half way
    [InlineData(110, 0.0)]
    [InlineData(500, 0.0)]
    public void CosineDecayWarmsUpThenDecays(long step, double expected) =>
        Assert.Equal(expected, new CosineDecay(0f, 100, warmupTarget: 0.1f, warmupSteps: 10).At(step), 1e-7);

    [Fact]
    public void BadSettingsAreNamed()
    {
        Assert.Contains("decay_steps", Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialDecay(0.1f, 0, 0.9f)).Message);
        Assert.Contains("1 less than", Assert.Throws<ArgumentException>(() => new PiecewiseConstantDecay([10], [0.1f])).Message);
        Assert.Contains("increasing", Assert.Throws<ArgumentException>(() => new PiecewiseConstantDecay([10, 5], [0.1f, 0.2f, 0.3f])).Message);
        Assert.Contains("warmup_target", Assert.Throws<ArgumentException>(() => new CosineDecay(0.1f, 10, warmupSteps: 5)).Message);
        Assert.Contains("alpha", Assert.Throws<ArgumentOutOfRangeException>(() => new CosineDecay(0.1f, 10, alpha: 2f)).Message);
    }

    internal static (Tensor X, Tensor Y) Blobs(int n, ulong seed)
    {
        var rng = new Rng(seed);
        var x = new float[n * 3];
        var y = new float[n * 2];
        for (int i = 0; i < n; i++)
        {
            int c = i % 2;
            for (int j = 0; j < 3; j++) x[i * 3 + j] = (float)(rng.NextDouble() * 2 - 1) + (c == 0 ? 0.5f : -0.5f);
            y[i * 2 + c] = 1;
        }
        return (new Tensor(x, [n, 3]), new Tensor(y, [n, 2]));
    }

    internal static Sequential Tiny(Optimizer optimizer, ulong seed = 3)
    {
        var m = new Sequential(new Dense(8, "tanh", inputShape: [3]), new Dense(2, "softmax")) { Seed = seed };
        m.Compile("categorical_crossentropy", optimizer, ["accuracy"]);
        return m;
    }

    /// <summary>Sets the learning rate by hand before every update: what a schedule must do by itself.</summary>
    private sealed class ByHand(LearningRateSchedule s) : Callback
    {
        private Sequential? _m;
        public override void OnTrainBegin(Sequential model, TrainingInfo info) { _m = model; model.Optimizer!.LearningRate = s.At(0); }
        public override void OnBatchEnd(int epoch, in BatchLogs logs) { float lr = s.At(_m!.Optimizer!.Iterations); if (lr > 0) _m.Optimizer.LearningRate = lr; }
    }

    /// <summary>SGD with and without momentum (the fused and the separate update) takes each step at the schedule's rate for its iteration.</summary>
    [Theory]
    [InlineData(0f)]
    [InlineData(0.9f)]
    public void AnOptimizerTakesEachStepAtTheScheduledRate(float momentum)
    {
        var (x, y) = Blobs(64, 1);
        var schedule = new ExponentialDecay(0.5f, 3, 0.5f);
        var scheduled = Tiny(new SGD(momentum: momentum) { Schedule = schedule });
        var h = scheduled.Fit(x, y, batchSize: 16, epochs: 3, verbose: 0, shuffle: false);
        var manual = Tiny(new SGD(0.5f, momentum));
        manual.Fit(x, y, batchSize: 16, epochs: 3, verbose: 0, shuffle: false, callbacks: [new ByHand(schedule)]);
        foreach (var (a, b) in scheduled.Weights.Zip(manual.Weights)) Assert.Equal(b.Value.ToArray(), a.Value.ToArray());
        Assert.Equal(12, scheduled.Optimizer!.Iterations);
        // The rate of each epoch's last update: iterations 3, 7 and 11 before it.
        Assert.Equal([schedule.At(3), schedule.At(7), schedule.At(11)], h.LearningRate.Select(v => (float)v));
    }

    /// <summary>
    /// A schedule goes into the model file with the iteration count: a run interrupted after one epoch and resumed ends
    /// with exactly the weights of the uninterrupted run, even where the cosine has reached 0.
    /// </summary>
    [Fact]
    public void AScheduledRunResumesExactly()
    {
        var (x, y) = Blobs(64, 2);
        Optimizer Opt() => new Adam { Schedule = new CosineDecay(0f, 4, warmupTarget: 0.05f, warmupSteps: 2) };
        var whole = Tiny(Opt());
        whole.Fit(x, y, batchSize: 16, epochs: 3, verbose: 0, seed: 4);
        Assert.Equal(0f, whole.Optimizer!.LearningRate);

        using var dir = new TempDir();
        var part = Tiny(Opt());
        part.Fit(x, y, batchSize: 16, epochs: 3, verbose: 0, seed: 4, callbacks: [new SerializationTests.StopAt(epoch: 2, step: 1)]);
        part.SaveCheckpoint(dir.File("ckpt.dendrite"));
        var resumed = Sequential.LoadCheckpoint(dir.File("ckpt.dendrite"), out var state);
        var schedule = Assert.IsType<CosineDecay>(resumed.Optimizer!.Schedule);
        Assert.Equal((0.05f, 2, 4), (schedule.WarmupTarget!.Value, schedule.WarmupSteps, schedule.DecaySteps));
        resumed.Fit(x, y, verbose: 0, resumeFrom: state);
        foreach (var (a, b) in whole.Weights.Zip(resumed.Weights)) Assert.Equal(a.Value.ToArray(), b.Value.ToArray());

        whole.Save(dir.File("done.dendrite"));   // learning_rate 0 in the file: read back through the schedule
        Assert.Equal(0f, Sequential.Load(dir.File("done.dendrite")).Optimizer!.LearningRate);
    }

    [Fact]
    public void APiecewiseScheduleRoundTripsThroughTheModelFile()
    {
        var m = Tiny(new SGD { Schedule = new PiecewiseConstantDecay([5, 9], [0.3f, 0.2f, 0.1f]) });
        var (x, y) = Blobs(32, 3);
        m.Fit(x, y, batchSize: 8, epochs: 2, verbose: 0);
        using var dir = new TempDir();
        m.Save(dir.File("m.dendrite"));
        var back = Sequential.Load(dir.File("m.dendrite")).Optimizer!;
        Assert.Equal(m.Optimizer!.Schedule!.ToString(), back.Schedule!.ToString());
        Assert.Equal(8, back.Iterations);
        Assert.Equal(0.2f, back.LearningRate);
    }
}
