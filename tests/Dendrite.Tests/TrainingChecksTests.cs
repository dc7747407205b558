using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Dendrite.Callbacks;
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;
using Dendrite.Serialization;

namespace Dendrite.Tests;

/// <summary>Memory known before it is needed; what a resume checks; numbers at the edges; when a run has diverged.</summary>
public class TrainingChecksTests
{
    private static (Dataset Train, Dataset Test) Data => ModelTests.Data.Value;

    private static Sequential Mlp(int hidden = 32, float momentum = 0.9f, ulong seed = 4)
    {
        var m = new Sequential(new Flatten(inputShape: [28, 28]), new Rescaling(1f / 255), new Dense(hidden, "relu"), new Dense(10, "softmax")) { Seed = seed };
        m.Compile("categorical_crossentropy", new SGD(0.05f, momentum), ["accuracy"]);
        return m;
    }

    private sealed class StopAt(int epoch, int step) : Callback
    {
        private Sequential? _m;
        public override void OnTrainBegin(Sequential model, TrainingInfo info) => _m = model;
        public override void OnBatchEnd(int e, in BatchLogs logs) { if (e == epoch && logs.Step == step) _m!.StopTraining = true; }
    }

    /// <summary>The estimate covers what training really allocates (every node's value and gradient buffer, at the validation batch's rows too) and is within twice it.</summary>
    [Fact]
    public void TheEstimateCoversWhatTrainingAllocates()
    {
        var m = Mlp(64);
        var estimate = m.EstimateMemory(128, training: true);
        Assert.Equal(4L * (784 * 64 + 64 + 64 * 10 + 10), estimate.Weights);
        Assert.Equal(estimate.Weights, estimate.Gradients);
        Assert.Equal(estimate.Weights, estimate.OptimizerSlots);          // momentum: one velocity per weight
        Assert.Equal(0, Mlp(64, momentum: 0).EstimateMemory(128).OptimizerSlots);
        m.Fit(Data.Train.Take(1280), batchSize: 128, epochs: 1, verbose: 0, validationData: Data.Test.Take(1100));
        var loss = (Node)typeof(Sequential).GetField("_lossNode", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(m)!;
        long actual = loss.Order.Sum(n => 4L * (n.Value.Storage.Length + n.Grad.Storage.Length))
            + ((SGD)m.Optimizer!).Slots().Sum(s => 4L * s.Values.Length);
        Assert.InRange(estimate.Total, actual, 2 * actual);
    }

    private sealed class Im2ColLike(int factor, int[]? inputShape = null) : Layer(null, inputShape)
    {
        public override int[] ComputeOutputShape(int[] inputShape) => inputShape;
        public override long WorkspacePerItem(int[] inputShape) => (long)factor * Tensor.ProductOf(inputShape);
        public override Node Call(Node input, TrainingSwitch? training = null) => input;
        public override IReadOnlyDictionary<string, object?> GetConfig() => new Dictionary<string, object?>();
    }

    [Fact]
    public void ALayersWorkspaceCountsPerItem()
    {
        var plain = new Sequential(new Im2ColLike(0, inputShape: [28, 28]), new Flatten(), new Dense(10));
        var withWorkspace = new Sequential(new Im2ColLike(9, inputShape: [28, 28]), new Flatten(), new Dense(10));
        Assert.Equal(4L * 9 * 784 * 1024, withWorkspace.EstimateMemory(32).Activations - plain.EstimateMemory(32).Activations);
    }

    /// <summary>Issue 14: --hidden 2000000 died with an OutOfMemoryException in Tensor's constructor. Building or training refuses first, with the estimate and what is available, and allocates nothing.</summary>
    [Fact]
    public void WorkThatWouldNotFitIsRefusedBeforeAllocating()
    {
        var m = Mlp(2_000_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        using (MemoryBudget.Pretend(1L << 30))
        {
            var e = Assert.Throws<NotEnoughMemoryException>(() => m.Fit(Data.Train.Take(256), batchSize: 128, verbose: 0));
            Assert.Contains("Training this model in batches of 128 needs about 26.4 GB (weights 5.9 GB, gradients 5.9 GB, optimizer slots 5.9 GB, activations for a batch of 128 8.6 GB); 1.0 GB of memory is available", e.Message);
            Assert.Contains("Building this model needs about 5.9 GB (its weights); 1.0 GB", Assert.Throws<NotEnoughMemoryException>(() => m.Build(28, 28)).Message);
        }
        Assert.False(m.IsBuilt);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10_000_000);
    }

    /// <summary>Issue 14: --epochs 1000000 died in History.Reserve, which preallocated steps × epochs. The history grows as the run goes.</summary>
    [Fact]
    public void AMillionEpochsTakeMemoryOnlyAsTheyRun()
    {
        var m = Mlp(8);
        var data = Data.Train.Take(64);
        m.Fit(data, batchSize: 32, epochs: 1, verbose: 0);      // warm: graph and buffers exist
        long before = GC.GetAllocatedBytesForCurrentThread();
        var h = m.Fit(data, batchSize: 32, epochs: 1_000_000, verbose: 0, callbacks: [new StopAt(epoch: 3, step: 2)]);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4_000_000, $"{GC.GetAllocatedBytesForCurrentThread() - before:N0} bytes");
        Assert.Equal(6, h.BatchLoss.Count);
        Assert.True(h.BatchLoss.Capacity < 100);
    }

    /// <summary>Issue 16, item 8: --batch-size 2147483647 overflowed: 0 steps, nothing trained, exit 0. A batch larger than the data is the data as one batch.</summary>
    [Fact]
    public void ABatchLargerThanTheDataIsTheWholeData()
    {
        var data = Data.Train.Take(100);
        var huge = Mlp(16);
        var h = huge.Fit(data, batchSize: int.MaxValue, epochs: 2, verbose: 0, seed: 2);
        Assert.Equal(1, h.StepsPerEpoch);
        Assert.Equal(2, h.BatchLoss.Count);
        Assert.Equal(100, huge.TrainingState!.BatchSize);
        var exact = Mlp(16);
        exact.Fit(data, batchSize: 100, epochs: 2, verbose: 0, seed: 2);
        Assert.Equal(exact.Weights.SelectMany(w => w.Value.ToArray()), huge.Weights.SelectMany(w => w.Value.ToArray()));
    }

    /// <summary>Issue 16, item 9: a model evaluated on 10 classes, then on the same images relabelled into 9, returned numbers. It now fails as a fresh model does.</summary>
    [Fact]
    public void AReusedModelChecksTargetsAsAFreshOneDoes()
    {
        var ten = Data.Test.Take(200);
        var nine = new Dataset("nine", ten.Images, ten.ItemShape, ten.Labels.Select(l => (byte)(l % 9)).ToArray(), Mnist.ClassNames[..9]);
        var fresh = Mlp(16);
        var freshError = Assert.Throws<ArgumentException>(() => fresh.Evaluate(nine)).Message;
        var reused = Mlp(16);
        reused.Evaluate(ten);
        Assert.Equal(freshError, Assert.Throws<ArgumentException>(() => reused.Evaluate(nine)).Message);
        Assert.Contains("has items of shape (9,), but the model outputs (10,)", freshError);
        // Tensors: sparse targets of one shape, then another rank, reuse nothing stale either.
        var xs = ten.ImagesAsTensor();
        Assert.Equal(reused.Evaluate(xs, ten.OneHotLabels()), reused.Evaluate(ten));
    }

    /// <summary>Issue 16, item 5: a --validation-split run could not resume. It resumes with the same split, its history continuing, and ends where an uninterrupted run ends.</summary>
    [Fact]
    public void AValidationSplitRunResumesWithItsSplit()
    {
        using var dir = new TempDir();
        var data = Data.Train.Take(500);
        var whole = Mlp(16);
        var h1 = whole.Fit(data, batchSize: 50, epochs: 3, verbose: 0, seed: 7, validationSplit: 0.2f);
        var part = Mlp(16);
        part.Fit(data, batchSize: 50, epochs: 3, verbose: 0, seed: 7, validationSplit: 0.2f, callbacks: [new StopAt(epoch: 2, step: 3)]);
        part.SaveCheckpoint(dir.File("c.dendrite"));
        var resumed = Sequential.LoadCheckpoint(dir.File("c.dendrite"), out var state);
        Assert.Equal(0.2f, state.ValidationSplit);
        var h2 = resumed.Fit(data, verbose: 0, resumeFrom: state);
        Assert.Equal(h1.ValLoss, h2.ValLoss);
        Assert.Equal(3, h2.ValAccuracy.Count);
        Assert.Equal(whole.Weights.SelectMany(w => w.Value.ToArray()), resumed.Weights.SelectMany(w => w.Value.ToArray()));
        // Given other validation data besides its own split, the message names the checkpoint.
        var again = Sequential.LoadCheckpoint(dir.File("c.dendrite"), out var s2);
        Assert.Contains($"{dir.File("c.dendrite")}: this run validates on the last 20% of its training data", Assert.Throws<ArgumentException>(() => again.Fit(data, verbose: 0, validationData: Data.Test.Take(10), resumeFrom: s2)).Message);
    }

    /// <summary>Rewrites the training state of a checkpoint file (and re-seals it, so the counters, not the checksum, are judged).</summary>
    private static void EditState(string path, Action<JsonObject> edit)
    {
        var file = File.ReadAllBytes(path);
        int n = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        var header = JsonNode.Parse(Encoding.UTF8.GetString(file, 8, n))!.AsObject();
        var state = JsonNode.Parse((string)header["__metadata__"]!["training"]!)!.AsObject();
        edit(state);
        header["__metadata__"]!["training"] = state.ToJsonString();
        var h = Encoding.UTF8.GetBytes(header.ToJsonString());
        h = [.. h, .. Enumerable.Repeat((byte)' ', (8 - h.Length % 8) % 8)];
        var result = new byte[8 + h.Length + file.Length - 8 - n];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)h.Length);
        h.CopyTo(result, 8);
        file.AsSpan(8 + n).CopyTo(result.AsSpan(8 + h.Length));
        SafeTensors.Seal(result);
        File.WriteAllBytes(path, result);
    }

    /// <summary>Issue 16, item 6: counters that disagree loaded and trained from a wrong place. Each disagreement is an error naming the checkpoint.</summary>
    [Fact]
    public void CheckpointCountersAreCrossChecked()
    {
        using var dir = new TempDir();
        var m = Mlp(8);
        m.Fit(Data.Train.Take(300), batchSize: 50, epochs: 3, verbose: 0, seed: 1, callbacks: [new StopAt(epoch: 2, step: 4)]);
        string path = dir.File("c.dendrite");
        var cases = new (string Says, Action<JsonObject> Edit)[]
        {
            ("steps_done 6, but an epoch has 6 steps", s => s["steps_done"] = 6),
            ("epochs_done 2, but the history holds 1 epochs", s => s["epochs_done"] = 2),
            ("seen 150, but 4 steps of batch size 50 see 200", s => s["seen"] = 150),
            ("steps_per_epoch 6, but 300 samples in batches of 60 make 5", s => s["batch_size"] = 60),
            ("1 epochs of 6 steps and 4 steps make 10 batches, but the history holds 9", s => s["batch_loss"]!.AsArray().RemoveAt(0)),
            ("epochs_done 4 of epochs 3", s => s["epochs_done"] = 4),
        };
        foreach (var (says, edit) in cases)
        {
            m.SaveCheckpoint(path);
            Sequential.LoadCheckpoint(path, out _);                   // as saved, it is consistent
            EditState(path, edit);
            var e = Assert.Throws<InvalidDataFormatException>(() => Sequential.LoadCheckpoint(path, out _));
            Assert.Contains($"{path}: the checkpoint's counters disagree: {says}", e.Message);
        }
        // Consistent counters, other data: named too.
        m.SaveCheckpoint(path);
        var resumed = Sequential.LoadCheckpoint(path, out var state);
        Assert.Contains($"{path}: the checkpoint was taken training on 300 samples per epoch; this data gives 350",
            Assert.Throws<ArgumentException>(() => resumed.Fit(Data.Train.Take(350), verbose: 0, resumeFrom: state)).Message);
    }

    [Fact]
    public void TheDivergenceRule()
    {
        var h = new History();
        h.BatchLoss.AddRange([2.3, 1e6]);
        h.Loss.Add(4.7);
        Assert.Contains("the training loss ended at 4.7, more than 2× the 2.3 it started from", Divergence.Check(h));
        h.Loss[0] = 4.5;
        Assert.Null(Divergence.Check(h));
        Assert.Contains("the test accuracy is 11.00%, no better than chance (11.35%", Divergence.Check(h, 0.11, 0.1135, "test accuracy"));
        Assert.Null(Divergence.Check(h, 0.13, 0.1135));
        Assert.Equal(0.6, Divergence.Chance([1, 1, 1, 0, 2]));
        Assert.Null(Divergence.Check(new History(), 0.05, 0.11));           // a run that trained nothing (0 epochs) did not diverge
    }

    /// <summary>Issue 16, item 4: a finite blow-up replaced a good checkpoint every epoch. ModelCheckpoint keeps a file that is there when the run has diverged, unless told to overwrite.</summary>
    [Fact]
    public void ADivergedRunDoesNotReplaceACheckpoint()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("c.dendrite"), "a good checkpoint");
        var m = Mlp(16, momentum: 0);
        m.Compile("categorical_crossentropy", new SGD(1e6f), ["accuracy"]);
        var keep = new ModelCheckpoint(dir.File("c.dendrite"), monitor: "loss", saveBestOnly: false, resumable: true);
        try { m.Fit(Data.Train.Take(400), batchSize: 20, epochs: 2, verbose: 0, seed: 1, callbacks: [keep]); }
        catch (TrainingDivergedException) { }            // or a NaN: either way, nothing was written
        Assert.Equal("a good checkpoint", File.ReadAllText(dir.File("c.dendrite")));
        var good = Mlp(16, momentum: 0);
        good.Fit(Data.Train.Take(400), batchSize: 20, epochs: 1, verbose: 0, seed: 1, callbacks: [keep = new ModelCheckpoint(dir.File("c.dendrite"), monitor: "loss", saveBestOnly: false)]);
        Assert.Null(keep.Skipped);
        Assert.NotEqual("a good checkpoint", File.ReadAllText(dir.File("c.dendrite")));
    }
}
