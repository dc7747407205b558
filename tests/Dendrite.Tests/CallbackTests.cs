using Dendrite.Callbacks;
using Dendrite.Models;
using Dendrite.Optimizers;
using Dendrite.Optimizers.Schedules;

namespace Dendrite.Tests;

/// <summary>EarlyStopping, ReduceLROnPlateau, LearningRateScheduler and TerminateOnNaN, by Keras's rules, on small data.</summary>
public class CallbackTests
{
    private static EpochLogs Val(int epoch, double valLoss) => new(epoch, 1, 0.5, valLoss, 0.5, 0);

    private static Sequential Built(Optimizer? opt = null)
    {
        var m = ScheduleTests.Tiny(opt ?? new SGD(0.1f));
        m.Build([3]);
        return m;
    }

    [Fact]
    public void EarlyStoppingStopsAfterPatienceEpochsWithoutImprovement()
    {
        var m = Built();
        var es = new EarlyStopping(patience: 2, minDelta: 0.01f);
        es.OnTrainBegin(m, new TrainingInfo(10, 1, 1, 1, 1));
        double[] losses = [1.0, 0.8, 0.795, 0.9, 0.7];   // 0.795 is not better by more than min_delta
        int e = 0;
        while (!m.StopTraining && e < losses.Length) { es.OnEpochEnd(Val(e + 1, losses[e])); e++; }
        Assert.Equal(4, es.StoppedEpoch);
        Assert.Equal((2, 0.8), (es.BestEpoch, es.Best));
    }

    [Fact]
    public void EarlyStoppingBaselineCountsEpochsThatDoNotBeatIt()
    {
        var m = Built();
        var es = new EarlyStopping(patience: 2, baseline: 0.5);
        es.OnTrainBegin(m, new TrainingInfo(10, 1, 1, 1, 1));
        es.OnEpochEnd(Val(1, 0.9)); es.OnEpochEnd(Val(2, 0.8));   // improving, but not below the baseline: the wait goes on
        Assert.False(m.StopTraining);
        es.OnEpochEnd(Val(3, 0.85));
        Assert.True(m.StopTraining);
        Assert.Equal(3, es.StoppedEpoch);
    }

    /// <summary>In Fit: a min_delta no epoch can beat stops the run at epoch 2, and the weights are those of epoch 1, the best.</summary>
    [Fact]
    public void EarlyStoppingInFitRestoresTheBestWeights()
    {
        var (x, y) = ScheduleTests.Blobs(64, 5);
        var m = ScheduleTests.Tiny(new SGD(0.1f));
        var keep = new KeepWeightsAfter(1);
        var es = new EarlyStopping("loss", minDelta: 1e9f, patience: 0, restoreBestWeights: true);
        var h = m.Fit(x, y, batchSize: 16, epochs: 10, verbose: 0, seed: 1, callbacks: [keep, es]);
        Assert.Equal(2, h.Loss.Count);
        Assert.Equal(2, es.StoppedEpoch);
        foreach (var (a, b) in keep.Weights!.Zip(m.GetWeights())) Assert.Equal(a.ToArray(), b.ToArray());
    }

    [Fact]
    public void EarlyStoppingNamesAMissingValidationFigure()
    {
        var (x, y) = ScheduleTests.Blobs(32, 5);
        var e = Assert.Throws<InvalidOperationException>(() => ScheduleTests.Tiny(new SGD()).Fit(x, y, verbose: 0, callbacks: [new EarlyStopping()]));
        Assert.Contains("val_loss", e.Message);
        Assert.Contains("validation", e.Message);
    }

    private sealed class KeepWeightsAfter(int epoch) : Callback
    {
        private Sequential? _m;
        public Tensor[]? Weights;
        public override void OnTrainBegin(Sequential model, TrainingInfo info) => _m = model;
        public override void OnEpochEnd(EpochLogs logs) { if (logs.Epoch == epoch) Weights = _m!.GetWeights(); }
    }

    [Fact]
    public void ReduceLROnPlateauFollowsPatienceCooldownAndMinLr()
    {
        var m = Built(new SGD(0.1f));
        var r = new ReduceLROnPlateau(factor: 0.5f, patience: 2, cooldown: 1, minLr: 0.04f);
        r.OnTrainBegin(m, new TrainingInfo(10, 1, 1, 1, 1));
        var lrs = new List<float>();
        for (int e = 1; e <= 9; e++) { r.OnEpochEnd(Val(e, 1.0)); lrs.Add(m.Optimizer!.LearningRate); }
        // e1 sets the best; e2, e3 wait, reduce to 0.05; e4 cools down; e5, e6 wait, reduce to max(0.025, 0.04); then lr = min_lr: no more.
        Assert.Equal([3, 6], r.Reductions);
        Assert.Equal([0.1f, 0.1f, 0.05f, 0.05f, 0.05f, 0.04f, 0.04f, 0.04f, 0.04f], lrs);
    }

    /// <summary>In Fit, each reduction shows in History.LearningRate and the CSV log from the next epoch.</summary>
    [Fact]
    public void ReduceLROnPlateauInFitShowsInTheHistoryAndTheCsvLog()
    {
        var (x, y) = ScheduleTests.Blobs(64, 6);
        var m = ScheduleTests.Tiny(new SGD(0.2f));
        using var dir = new TempDir();
        var h = m.Fit(x, y, batchSize: 16, epochs: 4, verbose: 0, validationSplit: 0.25f,
            callbacks: [new ReduceLROnPlateau(factor: 0.5f, patience: 1, minDelta: 1e9f), new CsvLogger(dir.File("h.csv"))]);
        Assert.Equal([0.2, 0.2, 0.1, 0.05], h.LearningRate.Select(v => Math.Round(v, 6)));
        var csv = File.ReadAllLines(dir.File("h.csv"));
        Assert.EndsWith(",learning_rate", csv[0]);
        Assert.EndsWith(",0.05000000074505806", csv[4]);
        Assert.Equal(h.LearningRate, History.FromCsv(File.ReadAllText(dir.File("h.csv"))).LearningRate);
    }

    [Fact]
    public void RateChangingCallbacksRefuseAScheduledOptimizer()
    {
        var (x, y) = ScheduleTests.Blobs(32, 5);
        var m = ScheduleTests.Tiny(new SGD { Schedule = new ExponentialDecay(0.1f, 10, 0.9f) });
        Assert.Contains("ExponentialDecay", Assert.Throws<InvalidOperationException>(() => m.Fit(x, y, verbose: 0, validationSplit: 0.25f, callbacks: [new ReduceLROnPlateau()])).Message);
        Assert.Contains("ExponentialDecay", Assert.Throws<InvalidOperationException>(() => m.Fit(x, y, verbose: 0, callbacks: [new LearningRateScheduler((e, lr) => lr)])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReduceLROnPlateau(factor: 1f));
        Assert.Throws<ArgumentException>(() => new EarlyStopping(monitor: "val_acc"));
    }

    [Fact]
    public void LearningRateSchedulerSetsTheRateAtEachEpochFromZero()
    {
        var (x, y) = ScheduleTests.Blobs(64, 7);
        var m = ScheduleTests.Tiny(new SGD(0.1f));
        var seen = new List<int>();
        var h = m.Fit(x, y, batchSize: 16, epochs: 3, verbose: 0, callbacks: [new LearningRateScheduler((e, lr) => { seen.Add(e); return e == 0 ? lr : lr / 2; })]);
        Assert.Equal([0, 1, 2], seen);
        Assert.Equal([0.1, 0.05, 0.025], h.LearningRate.Select(v => Math.Round(v, 6)));
        Assert.Contains("epoch 0", Assert.Throws<InvalidOperationException>(() => m.Fit(x, y, verbose: 0, callbacks: [new LearningRateScheduler((e, lr) => 0)])).Message);
    }

    /// <summary>A NaN in the data: without TerminateOnNaN, Fit throws; with it, Fit stops there and returns the history so far.</summary>
    [Fact]
    public void TerminateOnNaNStopsInsteadOfThrowing()
    {
        var (x, y) = ScheduleTests.Blobs(64, 8);
        x.Span[20 * 3] = float.NaN;   // sample 20: the second batch of 16 without shuffling
        Assert.Throws<TrainingDivergedException>(() => ScheduleTests.Tiny(new SGD()).Fit(x, y, batchSize: 16, epochs: 2, verbose: 0, shuffle: false));
        var t = new TerminateOnNaN();
        var h = ScheduleTests.Tiny(new SGD()).Fit(x, y, batchSize: 16, epochs: 2, verbose: 0, shuffle: false, callbacks: [t]);
        Assert.Single(h.BatchLoss);
        Assert.Empty(h.Loss);
        Assert.StartsWith("epoch 1, batch 2: the loss became NaN", t.Terminated);
    }
}
