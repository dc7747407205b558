using System.Buffers.Binary;
using System.Text;
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;
using Dendrite.Serialization;

namespace Dendrite.Tests;

/// <summary>Model files that detect corruption, and loading that matches every tensor to exactly one weight.</summary>
public class IntegrityTests
{
    /// <summary>A small trained model with momentum (so a checkpoint holds optimizer slots): a file of about 1.4 KB.</summary>
    internal static Sequential Small(ulong seed = 5)
    {
        var m = new Sequential(new Flatten(inputShape: [4, 4]), new Dense(3, "relu", name: "hidden"), new Dense(2, "softmax", name: "out")) { Seed = seed };
        m.Compile("categorical_crossentropy", new SGD(0.1f, momentum: 0.9f), ["accuracy"]);
        var rng = new Rng(seed);
        var x = new Tensor(20, 4, 4);
        var y = new Tensor(20, 2);
        for (int i = 0; i < 20; i++)
        {
            int c = i % 2;
            y[i, c] = 1;
            for (int j = 0; j < 16; j++) x.Span[i * 16 + j] = (float)rng.NextDouble() + c * (j % 2);
        }
        m.Fit(x, y, batchSize: 5, epochs: 2, verbose: 0, seed: 1);
        return m;
    }

    internal static byte[] Bytes(Action<string> save)
    {
        using var dir = new TempDir();
        save(dir.File("m.dendrite"));
        return File.ReadAllBytes(dir.File("m.dendrite"));
    }

    private static float[] Probe(Sequential m)
    {
        var input = new Tensor(3, 4, 4);
        for (int i = 0; i < input.Length; i++) input.Span[i] = i % 7 / 7f;
        return m.Predict(input).ToArray();
    }

    /// <summary>Issue 14: 207 of 3,251 mutated files loaded silently. Every byte of a model and of a checkpoint, changed alone (low bit, then all bits): every change is an error.</summary>
    [Fact]
    public void EveryChangedByteOfAModelOrCheckpointIsAnError()
    {
        var m = Small();
        foreach (var file in new[] { Bytes(m.Save), Bytes(m.SaveCheckpoint) })
        {
            Assert.NotNull(ModelFile.Load(new MemoryStream(file), "m", out _));
            var undetected = new List<string>();
            foreach (byte mask in new byte[] { 0x01, 0xFF })
                for (int i = 0; i < file.Length; i++)
                {
                    var b = (byte[])file.Clone();
                    b[i] ^= mask;
                    try
                    {
                        ModelFile.Load(new MemoryStream(b), "flipped.dendrite", out _);
                        undetected.Add($"byte {i} ^ 0x{mask:X2}");
                    }
                    catch (InvalidDataFormatException e) { Assert.StartsWith("flipped.dendrite", e.Message); }
                }
            Assert.Empty(undetected);
        }
    }

    [Fact]
    public void TheChecksumIsTheCrc32cOfTheFileWithItsDigitsAsZeros()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        var random = new byte[10_007];
        new Random(3).NextBytes(random);
        Assert.Equal(~Crc32C.AppendTable(~0u, random), Crc32C.Compute(random));   // the instruction path agrees with the table
        Assert.Equal(Crc32C.Compute(random), ~Crc32C.Append(Crc32C.Append(~0u, random.AsSpan(0, 1001)), random.AsSpan(1001)));

        var file = Bytes(Small().Save);
        string header = Encoding.UTF8.GetString(file, 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(file));
        var stored = System.Text.RegularExpressions.Regex.Match(header, "\"checksum\":\"crc32c:([0-9a-f]{8})\"");
        Assert.True(stored.Success, header);
        int at = 8 + Encoding.UTF8.GetByteCount(header[..stored.Groups[1].Index]);
        var zeroed = (byte[])file.Clone();
        zeroed.AsSpan(at, 8).Fill((byte)'0');
        Assert.Equal(stored.Groups[1].Value, Crc32C.Compute(zeroed).ToString("x8"));
        // Still plain safetensors: the generic reader sees the weights and one more metadata string.
        var (tensors, meta) = SafeTensors.Read(new MemoryStream(file), "m", out bool checksummed);
        Assert.True(checksummed);
        Assert.Equal(["hidden/bias", "hidden/kernel", "out/bias", "out/kernel"], tensors.Keys.Order());
        Assert.Equal("crc32c:" + stored.Groups[1].Value, meta["checksum"]);
    }

    /// <summary>A file saved before checksums (the same layout without the key) loads, predicts the same, and says it has no checksum.</summary>
    [Fact]
    public void AFileWithoutChecksumLoadsWithANote()
    {
        var m = Small();
        var legacy = Corpus.Read("legacy-no-checksum.dendrite");
        var loaded = ModelFile.Load(new MemoryStream(legacy), "old.dendrite", out _, out var note);
        Assert.Contains("old.dendrite carries no checksum", note);
        var (tensors, _) = SafeTensors.Read(new MemoryStream(legacy), "old");
        foreach (var w in loaded.Weights) Assert.Equal(tensors[w.Name].ToArray(), w.Value.ToArray());
        Assert.Equal(2, Probe(loaded).Length / 3);
        ModelFile.Load(new MemoryStream(Bytes(m.Save)), "new.dendrite", out _, out var none);
        Assert.Null(none);
        // Without a checksum, a metadata key older versions never wrote means the checksum's own entry was damaged.
        var damaged = Bytes(m.Save);
        int key = damaged.AsSpan().IndexOf("\"checksum\":"u8);
        damaged[key + 8] = (byte)'x';
        Assert.Contains("has no checksum but holds metadata `checksux`", Assert.Throws<InvalidDataFormatException>(() => ModelFile.Load(new MemoryStream(damaged), "d", out _)).Message);
    }

    /// <summary>Issue 14: two files of the fuzz campaign predicted NaN for every input. Non-finite values are an error, with or without a checksum, and are never saved.</summary>
    [Fact]
    public void NonFiniteWeightsAreAnError()
    {
        var e = Assert.Throws<InvalidDataFormatException>(() => ModelFile.Load(new MemoryStream(Corpus.Read("nan-weight-no-checksum.dendrite")), "nan.dendrite", out _));
        Assert.Contains("tensor `hidden/kernel` holds NaN at index 5", e.Message);
        Assert.Contains("the checksum does not match", Assert.Throws<InvalidDataFormatException>(() =>
            ModelFile.Load(new MemoryStream(Corpus.Read("flipped-weight-bit.dendrite")), "flipped.dendrite", out _)).Message);
        var m = Small();
        m.Weights[2].Value.Span[1] = float.PositiveInfinity;
        var saveError = Assert.Throws<InvalidOperationException>(() => Bytes(m.Save));
        Assert.Contains("`out/kernel` holds Infinity at index 1", saveError.Message);
        var sealedNaN = Bytes(Small().Save);
        int dataStart = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(sealedNaN);
        BinaryPrimitives.WriteSingleLittleEndian(sealedNaN.AsSpan(dataStart + 4), float.NaN);
        SafeTensors.Seal(sealedNaN);
        Assert.Contains("holds NaN", Assert.Throws<InvalidDataFormatException>(() => ModelFile.Load(new MemoryStream(sealedNaN), "n", out _)).Message);
    }

    /// <summary>Issue 16, item 7: two layers named x, no compile section: loaded with random weights in one. Now each tensor must match exactly one weight.</summary>
    [Fact]
    public void EveryTensorMatchesExactlyOneWeight()
    {
        Assert.Contains("two layers are named `x`", Assert.Throws<InvalidDataFormatException>(() =>
            ModelFile.Load(new MemoryStream(Corpus.Read("two-layers-named-x.dendrite")), "x.dendrite", out _)).Message);
        Assert.Contains("Name \"x\" is already", Assert.Throws<ArgumentException>(() => new Sequential(new Dense(2, name: "x", inputShape: [3]), new Dense(2, name: "x"))).Message);

        var m = Small();
        var meta = new Dictionary<string, string> { ["format"] = ModelFile.Format, ["format_version"] = "1", ["config"] = ModelFile.ConfigJson(m) };
        var weights = m.Weights.Select(w => (w.Name, w.Value)).ToList();
        var slots = m.Optimizer!.SlotNames.SelectMany(s => m.Weights.Select(w => ($"optimizer/{w.Name}/{s}", new Tensor(w.Value.Shape)))).ToList();
        string Error(IEnumerable<(string, Tensor)> tensors)
        {
            var ms = new MemoryStream();
            SafeTensors.Write(ms, tensors, meta, checksum: true);
            return Assert.Throws<InvalidDataFormatException>(() => ModelFile.Load(new MemoryStream(ms.ToArray()), "f", out _)).Message;
        }
        Assert.Contains("tensor `extra/kernel` does not belong to any layer", Error([.. weights, ("extra/kernel", new Tensor(2, 2))]));
        Assert.Contains("weight `out/bias` of shape (2,) is missing", Error(weights.Where(w => w.Name != "out/bias")));
        Assert.Contains("`optimizer/ghost/kernel/velocity` belongs to no weight", Error([.. weights, ("optimizer/ghost/kernel/velocity", new Tensor(2))]));
        Assert.Contains("keeps no slot named `m`", Error([.. weights, ("optimizer/out/bias/m", new Tensor(2))]));
        Assert.Contains("`optimizer/hidden/bias/velocity` is missing", Error([.. weights, .. slots.Where(s => s.Item1 != "optimizer/hidden/bias/velocity")]));
        Assert.Contains("has shape (3,) but weight `out/bias` has (2,)", Error([.. weights, .. slots.Where(s => s.Item1 != "optimizer/out/bias/velocity"), ("optimizer/out/bias/velocity", new Tensor(3))]));
        // All slots present: a checkpoint loads, and its velocities are the ones saved.
        var ms = new MemoryStream();
        SafeTensors.Write(ms, [.. weights, .. slots], meta, checksum: true);
        Assert.Equal(m.Weights.Count, ModelFile.Load(new MemoryStream(ms.ToArray()), "f", out _).Weights.Count);
        // Optimizer state in a file whose model has no optimizer is left over too.
        var noCompile = new Dictionary<string, string>(meta) { ["config"] = ModelFile.ConfigJson(m).Split(",\"compile\"")[0] + "}" };
        var nc = new MemoryStream();
        SafeTensors.Write(nc, [.. weights, .. slots], noCompile, checksum: true);
        Assert.Contains("the model has no optimizer", Assert.Throws<InvalidDataFormatException>(() => ModelFile.Load(new MemoryStream(nc.ToArray()), "f", out _)).Message);
    }

    /// <summary>
    /// The checksum and the matching know nothing of Dense: a convolutional checkpoint (Conv2D, BatchNormalization with
    /// its non-trainable moving statistics, Dropout, momentum slots) resumes exactly, and a changed byte anywhere in it is an error.
    /// </summary>
    [Fact]
    public void AConvolutionalCheckpointIsCoveredToo()
    {
        var data = ModelTests.Data.Value.Train.Take(120);
        Sequential Cnn()
        {
            var m = new Sequential(new Reshape([28, 28, 1], inputShape: [28, 28]), new Rescaling(1f / 255), new Conv2D(4, 3, strides: 2, activation: "relu"),
                new BatchNormalization(), new MaxPooling2D(2), new Flatten(), new Dropout(0.2f, seed: 3), new Dense(10, "softmax")) { Seed = 2 };
            m.Compile("categorical_crossentropy", new SGD(0.05f, momentum: 0.9f), ["accuracy"]);
            return m;
        }
        var whole = Cnn();
        whole.Fit(data, batchSize: 20, epochs: 2, verbose: 0, seed: 1);
        var part = Cnn();
        part.Fit(data, batchSize: 20, epochs: 2, verbose: 0, seed: 1, callbacks: [new StopAt(2, 3)]);
        var file = Bytes(part.SaveCheckpoint);
        var resumed = ModelFile.Load(new MemoryStream(file), "cnn", out var training);
        var state = TrainingState.FromJson(training!, "cnn");
        resumed.Fit(data, verbose: 0, resumeFrom: state);
        Assert.Equal(whole.Weights.SelectMany(w => w.Value.ToArray()), resumed.Weights.SelectMany(w => w.Value.ToArray()));
        Assert.Contains(resumed.Weights, w => !w.Trainable);                 // the moving statistics came back as weights
        var rng = new Rng(9);
        for (int i = 0; i < 400; i++)
        {
            var b = (byte[])file.Clone();
            b[rng.NextInt(b.Length)] ^= (byte)(1 << rng.NextInt(8));
            Assert.Throws<InvalidDataFormatException>(() => ModelFile.Load(new MemoryStream(b), "cnn", out _));
        }
    }

    private sealed class StopAt(int epoch, int step) : Dendrite.Callbacks.Callback
    {
        private Sequential? _m;
        public override void OnTrainBegin(Sequential model, Dendrite.Callbacks.TrainingInfo info) => _m = model;
        public override void OnBatchEnd(int e, in Dendrite.Callbacks.BatchLogs logs) { if (e == epoch && logs.Step == step) _m!.StopTraining = true; }
    }

    [Fact]
    public void ACheckpointRestoresItsOptimizerSlotsExactly()
    {
        var m = Small();
        var file = Bytes(m.SaveCheckpoint);
        var loaded = ModelFile.Load(new MemoryStream(file), "c", out var training);
        Assert.NotNull(training);
        var before = ((SGD)m.Optimizer!).Slots().ToDictionary(s => s.Variable.Name, s => s.Values.ToArray());
        var after = ((SGD)loaded.Optimizer!).Slots().ToDictionary(s => s.Variable.Name, s => s.Values.ToArray());
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var k in before.Keys) Assert.Equal(before[k], after[k]);
    }
}
