using System.Buffers.Binary;
using System.Text;
using Dendrite.Callbacks;
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;
using Dendrite.Serialization;

namespace Dendrite.Tests;

public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("dendrite-test-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() => Directory.Delete(Path, true);
}

public class SerializationTests
{
    private static (Dataset Train, Dataset Test) Data => ModelTests.Data.Value;

    internal static Sequential Trained(ulong seed = 3, float momentum = 0f)
    {
        var m = new Sequential(new Flatten(inputShape: [28, 28]), new Rescaling(1f / 255), new Dense(32, "tanh"), new Dense(16, "relu", useBias: false), new Dense(10, "softmax")) { Seed = seed };
        m.Compile("categorical_crossentropy", new SGD(0.1f, momentum), ["accuracy"]);
        m.Fit(Data.Train.Take(1000), batchSize: 50, epochs: 1, verbose: 0, seed: 1);
        return m;
    }

    [Fact]
    public void PredictionsAreBitwiseIdenticalAfterARoundTrip()
    {
        using var dir = new TempDir();
        var model = Trained();
        var before = model.Predict(Data.Test.Take(200)).ToArray();
        model.Save(dir.File("m.dendrite"));
        var loaded = Sequential.Load(dir.File("m.dendrite"));
        Assert.Equal(before, loaded.Predict(Data.Test.Take(200)).ToArray());
        Assert.Equal(model.ClassNames, loaded.ClassNames);
        Assert.Equal(model.SummaryText().Replace("\r", ""), loaded.SummaryText().Replace("\r", ""));
        Assert.Equal("categorical_crossentropy", loaded.Loss!.Name);
        Assert.Equal(0.1f, loaded.Optimizer!.LearningRate);
        // and the loaded model trains on
        loaded.Fit(Data.Train.Take(100), batchSize: 50, epochs: 1, verbose: 0);
    }

    [Fact]
    public void TheFileIsPlainSafetensors()
    {
        using var dir = new TempDir();
        var bytes = ValidFile();
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, (8 + n) % 8);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.Contains("\"dense/kernel\":{\"dtype\":\"F32\",\"shape\":[784,32],\"data_offsets\":[0,100352]}", header);
        Assert.Contains("\"format\":\"dendrite.model\"", header);
        var (tensors, meta) = SafeTensors.Read(new MemoryStream(bytes), "m");
        Assert.Equal(4, tensors.Count);
        Assert.Equal("1", meta["format_version"]);
    }

    [Fact]
    public void AFailedSaveLeavesThePreviousFileIntact()
    {
        using var dir = new TempDir();
        string path = dir.File("m.dendrite");
        File.WriteAllText(path, "previous");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, s => { s.Write(new byte[1000]); throw new IOException("disk full"); }));
        Assert.Equal("previous", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void AResumedRunEndsWithTheSameWeightsAsAnUninterruptedOne()
    {
        using var dir = new TempDir();
        var train = Data.Train.Take(600);
        Sequential Fresh()
        {
            var m = new Sequential(new Flatten(inputShape: [28, 28]), new Rescaling(1f / 255), new Dense(24, "relu"), new Dense(10, "softmax")) { Seed = 9 };
            m.Compile("categorical_crossentropy", new SGD(0.05f, momentum: 0.9f), ["accuracy"]);
            return m;
        }
        var whole = Fresh();
        var h1 = whole.Fit(train, batchSize: 32, epochs: 3, verbose: 0, seed: 5);

        var part = Fresh();
        part.Fit(train, batchSize: 32, epochs: 3, verbose: 0, seed: 5, callbacks: [new StopAt(epoch: 2, step: 7)]);
        Assert.Equal(1, part.TrainingState!.EpochsDone);
        Assert.Equal(7, part.TrainingState.StepsDone);
        part.SaveCheckpoint(dir.File("ckpt.dendrite"));

        var resumed = Sequential.LoadCheckpoint(dir.File("ckpt.dendrite"), out var state);
        var h2 = resumed.Fit(train, verbose: 0, resumeFrom: state);
        Assert.Equal(whole.Weights.SelectMany(w => w.Value.ToArray()), resumed.Weights.SelectMany(w => w.Value.ToArray()));
        Assert.Equal(h1.Loss, h2.Loss);
        Assert.Equal(h1.BatchLoss, h2.BatchLoss);
    }

    /// <summary>Every image layer, with BatchNormalization's moving statistics and Dropout's masks: a resumed run ends bit for bit where the whole one did, and a saved model predicts the same after loading.</summary>
    [Fact]
    public void ACnnSavesLoadsAndResumesExactly()
    {
        using var dir = new TempDir();
        var train = Data.Train.Take(300);
        Sequential Fresh()
        {
            var m = new Sequential(new Reshape([28, 28, 1], inputShape: [28, 28]), new Rescaling(1f / 255),
                new Conv2D(4, 3, strides: 2, padding: "same", activation: "relu"), new BatchNormalization(), new MaxPooling2D(2),
                new Conv2D(6, 3, useBias: false), new AveragePooling2D(2, padding: "same"), new Dropout(0.4f),
                new GlobalAveragePooling2D(), new Dense(10, "softmax")) { Seed = 12 };
            m.Compile("categorical_crossentropy", new SGD(0.05f, momentum: 0.9f), ["accuracy"]);
            return m;
        }
        var whole = Fresh();
        var h1 = whole.Fit(train, batchSize: 32, epochs: 2, verbose: 0, seed: 5);
        whole.Save(dir.File("m.dendrite"));
        var loaded = Sequential.Load(dir.File("m.dendrite"));
        Assert.Equal(whole.Predict(Data.Test.Take(50)).ToArray(), loaded.Predict(Data.Test.Take(50)).ToArray());
        Assert.Equal(whole.SummaryText(), loaded.SummaryText());

        var part = Fresh();
        part.Fit(train, batchSize: 32, epochs: 2, verbose: 0, seed: 5, callbacks: [new StopAt(epoch: 2, step: 4)]);
        part.SaveCheckpoint(dir.File("ckpt.dendrite"));
        var resumed = Sequential.LoadCheckpoint(dir.File("ckpt.dendrite"), out var state);
        var h2 = resumed.Fit(train, verbose: 0, resumeFrom: state);
        Assert.Equal(whole.Weights.SelectMany(w => w.Value.ToArray()), resumed.Weights.SelectMany(w => w.Value.ToArray()));
        Assert.Equal(h1.BatchLoss, h2.BatchLoss);
        var bn = (BatchNormalization)resumed.Layers[3];
        Assert.NotEqual(new float[4], bn.MovingMean.Value.ToArray());     // the moving statistics moved, and were carried
    }

    internal sealed class StopAt(int epoch, int step) : Callback
    {
        private Sequential? _m;
        public override void OnTrainBegin(Sequential model, TrainingInfo info) => _m = model;
        public override void OnBatchEnd(int e, in BatchLogs logs) { if (e == epoch && logs.Step == step) _m!.StopTraining = true; }
    }

    [Fact]
    public void ModelCheckpointKeepsTheBestEpoch()
    {
        using var dir = new TempDir();
        var m = new Sequential(new Flatten(inputShape: [28, 28]), new Rescaling(1f / 255), new Dense(16, "relu"), new Dense(10, "softmax")) { Seed = 2 };
        m.Compile("categorical_crossentropy", new SGD(0.1f), ["accuracy"]);
        var cp = new ModelCheckpoint(dir.File("best.dendrite"), monitor: "val_accuracy");
        var h = m.Fit(Data.Train.Take(500), batchSize: 25, epochs: 4, verbose: 0, validationData: Data.Test.Take(300), callbacks: [cp]);
        int bestEpoch = h.ValAccuracy.IndexOf(h.ValAccuracy.Max()) + 1;
        Assert.Equal(bestEpoch, cp.SavedEpoch);
        var best = Sequential.Load(dir.File("best.dendrite"));
        Assert.Equal(h.ValAccuracy.Max(), best.Evaluate(Data.Test.Take(300)).Accuracy, 6);
    }

    public static TheoryData<string, Func<byte[], byte[]>> BadFiles => new()
    {
        { "too short", b => b[..5] },
        { "impossible for a", b => { var c = (byte[])b.Clone(); BinaryPrimitives.WriteUInt64LittleEndian(c, ulong.MaxValue / 2); return c; } },
        { "truncated", b => b[..^10] },
        { "bytes after the tensor data", b => [.. b, 1, 2, 3, 4] },
        { "only F32", b => Replace(b, "\"F32\"", "\"F64\"") },
        { "not valid JSON", b => Replace(b, "{\"__metadata__\"", "[\"__metadata__\"") },
        { "needs", b => Replace(b, "\"shape\":[784,32]", "\"shape\":[784,33]") },
        { "not a Dendrite model", b => Replace(b, "dendrite.model", "dendrite.other") },
        { "newer Dendrite", b => Replace(b, "\"format_version\":\"1\"", "\"format_version\":\"9\"") },
        { "unknown layer class", b => Replace(b, "\\\"class_name\\\":\\\"Flatten\\\"", "\\\"class_name\\\":\\\"Flattex\\\"") },
    };

    private static byte[] Replace(byte[] file, string from, string to)
    {
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file);
        var header = Encoding.UTF8.GetString(file, 8, (int)n);
        Assert.Contains(from, header);
        var h = Encoding.UTF8.GetBytes(header.Replace(from, to).PadRight((int)n));
        var result = new byte[8 + h.Length + file.Length - 8 - (int)n];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)h.Length);
        h.CopyTo(result, 8);
        file.AsSpan(8 + (int)n).CopyTo(result.AsSpan(8 + h.Length));
        SafeTensors.Seal(result);   // a deliberate change: the structural checks, not the checksum, must catch it
        return result;
    }

    private static byte[] ValidFile()
    {
        var m = new Sequential(new Flatten(inputShape: [28, 28]), new Rescaling(1f / 255), new Dense(32, "relu", name: "dense"), new Dense(10, "softmax", name: "out")) { Seed = 1 };
        m.Compile("categorical_crossentropy", new SGD(0.1f));
        m.Build(28, 28);
        using var dir = new TempDir();
        m.Save(dir.File("m"));
        return File.ReadAllBytes(dir.File("m"));
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void BadFilesGetClearErrors(string expected, Func<byte[], byte[]> corrupt)
    {
        var bad = corrupt(ValidFile());
        var e = Assert.Throws<InvalidDataFormatException>(() => ModelFile.Load(new MemoryStream(bad), "bad.dendrite", out _));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("bad.dendrite", e.Message);
    }

    [Fact]
    public void AConfigThatLiesAboutItsWeightsIsRejectedBeforeAllocating()
    {
        var bad = Replace(ValidFile(), "\\\"units\\\":32", "\\\"units\\\":1000000");
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataFormatException>(() => ModelFile.Load(new MemoryStream(bad), "lie", out _));
        Assert.Contains("needs (784, 1000000)", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10_000_000);
    }
}
