using System.IO.Compression;
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Serialization.Import;
using static Dendrite.Tests.KerasFiles;

namespace Dendrite.Tests;

/// <summary>Keras files written here (every supported layer) import as the model they were written from; what Dendrite cannot run is refused by name.</summary>
public class KerasImportTests
{
    private static Dictionary<string, object?> C(string name, params (string Key, object? Value)[] kv)
    {
        var d = new Dictionary<string, object?> { ["name"] = name, ["dtype"] = new Dictionary<string, object?> { ["module"] = "keras", ["class_name"] = "DTypePolicy", ["config"] = new Dictionary<string, object?> { ["name"] = "float32" } } };
        foreach (var (k, v) in kv) d[k] = v;
        return d;
    }

    /// <summary>A CNN with every supported layer (and its Dendrite twin, whose weights the files hold).</summary>
    internal static (Sequential Model, Spec[] Specs) Cnn()
    {
        var conv1 = new Conv2D(3, (3, 3), (2, 2), "same", "relu");
        var bn = new BatchNormalization(epsilon: 0.01f, center: false);
        var conv2 = new Conv2D(4, (2, 2), (1, 1), "valid");
        var bn2 = new BatchNormalization();
        var dense1 = new Dense(5, "tanh");
        var dense2 = new Dense(3, "softmax");
        var model = new Sequential(new Reshape([8, 8, 1]), new Rescaling(0.5f, 0.1f), new ZeroPadding2D(((1, 0), (0, 1))), conv1, bn,
            new AveragePooling2D((2, 2), (1, 1), "same"), conv2, new Activation("sigmoid"), new MaxPooling2D((2, 2)), bn2, new Dropout(0.3f),
            new Flatten(), new Reshape([2, 8]), new Reshape([16]), dense1, dense2) { Seed = 5 };
        model.Build([8, 8]);
        var rng = new Rng(9);
        foreach (var b in new[] { bn, bn2 })
            b.SetWeights(b.Weights.Select(w => new Tensor(Enumerable.Range(0, w.Value.Length).Select(_ => 0.5f + (float)rng.NextDouble()).ToArray(), w.Value.ShapeSpan.ToArray())).ToArray());
        var specs = new Spec[]
        {
            new("InputLayer", new() { ["name"] = "input", ["batch_input_shape"] = new int?[] { null, 8, 8, 1 }, ["dtype"] = "float32" }),
            new("Rescaling", C("rescaling", ("scale", 0.5), ("offset", 0.1))),
            new("ZeroPadding2D", C("zero_padding2d", ("padding", new[] { new[] { 1, 0 }, new[] { 0, 1 } }))),
            new("Conv2D", C("conv2d", ("filters", 3), ("kernel_size", new[] { 3, 3 }), ("strides", new[] { 2, 2 }), ("padding", "same"), ("data_format", "channels_last"), ("activation", "relu"), ("use_bias", true)), conv1),
            new("BatchNormalization", C("batch_normalization", ("axis", -1), ("epsilon", 0.01), ("center", false), ("scale", true)), bn),
            new("AveragePooling2D", C("average_pooling2d", ("pool_size", new[] { 2, 2 }), ("strides", new[] { 1, 1 }), ("padding", "same"))),
            new("Conv2D", C("conv2d_1", ("filters", 4), ("kernel_size", new[] { 2, 2 }), ("padding", "valid"), ("activation", "linear")), conv2),
            new("Activation", C("activation", ("activation", "sigmoid"))),
            new("MaxPooling2D", C("max_pooling2d", ("pool_size", new[] { 2, 2 }), ("strides", null))),
            new("BatchNormalization", C("batch_normalization_1", ("axis", new[] { 3 })), bn2),
            new("Dropout", C("dropout", ("rate", 0.3))),
            new("Flatten", C("flatten")),
            new("Reshape", C("reshape", ("target_shape", new[] { 2, -1 }))),
            new("Reshape", C("reshape_1", ("target_shape", new[] { 16 }))),
            new("Dense", C("dense", ("units", 5), ("activation", "tanh")), dense1),
            new("Dense", C("dense_1", ("units", 3), ("activation", "softmax")), dense2),
        };
        return (model, specs);
    }

    private static float[] Probe(Sequential m)
    {
        var x = new float[64 * 3];
        for (int i = 0; i < x.Length; i++) x[i] = (i * 7 % 13) / 6f;
        var y = new float[3 * 3];
        for (int i = 0; i < 3; i++) m.Predict(x.AsSpan(i * 64, 64), y.AsSpan(i * 3, 3));
        return y;
    }

    private static Sequential Load(byte[] bytes, bool zip, out string? note)
    {
        using var f = zip ? KerasFile.OpenZip(new MemoryStream(bytes), "test.keras") : KerasFile.OpenHdf5(bytes, "test.h5");
        return ModelImport.FromKeras(f, "test", null, out note);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EveryLayerImportsAsTheModelItWasWrittenFrom(bool zip)
    {
        var (model, specs) = Cnn();
        var bytes = zip ? Zip(specs) : Legacy(specs);
        var back = Load(bytes, zip, out _);
        Assert.Equal([8, 8], back.InputShape);
        var expected = Probe(model);
        var actual = Probe(back);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 6);
        Assert.Contains(back.Layers, l => l is BatchNormalization { Center: false, Epsilon: 0.01f });
    }

    [Fact]
    public void OptimizerStateIsIgnoredWithANote()
    {
        var (_, specs) = Cnn();
        Load(Zip(specs, optimizer: true), true, out var note);
        Assert.Contains("optimizer state", note);
        Load(Zip(specs), true, out note);
        Assert.Null(note);
    }

    [Theory]
    [InlineData("\"class_name\": \"Dropout\"", "\"class_name\": \"Lambda\"", "layer `dropout` is a Lambda layer")]
    [InlineData("\"class_name\": \"Dropout\"", "\"class_name\": \"MyLayer\"", "layer `dropout` is of class MyLayer")]
    [InlineData("\"name\": \"max_pooling2d\"", "\"name\": \"max_pooling2d\", \"data_format\": \"channels_first\"", "channels_first")]
    [InlineData("\"activation\": \"tanh\"", "\"activation\": \"gelu\"", "activation \"gelu\"")]
    [InlineData("\"units\": 5", "\"units\": 6", "layer `dense`")]
    [InlineData("\"class_name\": \"Sequential\"", "\"class_name\": \"Functional\"", "layer `rescaling` of the Functional model is a second input")]
    public void WhatDendriteCannotRunIsRefusedByName(string from, string to, string message)
    {
        var (_, specs) = Cnn();
        string config = System.Text.Json.JsonSerializer.Serialize(System.Text.Json.JsonDocument.Parse(Config(specs)).RootElement, new System.Text.Json.JsonSerializerOptions { WriteIndented = false })
            .Replace("\":", "\": ").Replace(",\"", ", \"");
        Assert.Contains(from, config);
        config = config.Replace(from, to);
        foreach (bool zip in new[] { true, false })
        {
            var e = Assert.Throws<InvalidDataFormatException>(() => Load(zip ? Zip(specs, config) : Legacy(specs, config), zip, out _));
            Assert.Contains(message, e.Message);
        }
    }

    [Fact]
    public void AZipWithoutWeightsOrConfigIsRefused()
    {
        var ms = new MemoryStream();
        using (var a = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true)) a.CreateEntry("config.json");
        var e = Assert.Throws<InvalidDataFormatException>(() => KerasFile.OpenZip(new MemoryStream(ms.ToArray()), "x.keras"));
        Assert.Contains("model.weights.h5", e.Message);
    }

    /// <summary>
    /// A global heap object (where `model_config` lives) whose size runs past the end of the file is refused before
    /// PureHDF would allocate that many bytes, and so is a zip entry that declares more than it holds.
    /// </summary>
    [Fact]
    public void LengthsPastTheEndOfTheFileAreRefusedBeforeAnythingIsAllocated()
    {
        var (_, specs) = Cnn();
        var h5 = Legacy(specs);
        int gcol = h5.AsSpan().IndexOf("GCOL"u8);
        Assert.True(gcol >= 0);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(h5.AsSpan(gcol + 16 + 8), 0x7FFF_FFF0UL); // the first object's size
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataFormatException>(() => KerasFile.OpenHdf5(h5, "big.h5"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20);
        Assert.Contains("global heap object", e.Message);
        Assert.Contains("past the end of the file", e.Message);
    }

    /// <summary>
    /// Weights whose bytes spell HDF5 structures (a global heap, a local heap, a version 2 object header, a symbol table
    /// node pointing at a version 1 header, each declaring lengths past the end of the file) are raw data, which PureHDF
    /// never parses: the guard must not refuse the file for them, and the weights import as written.
    /// </summary>
    [Fact]
    public void WeightsThatSpellHdf5StructuresAreNotMistakenForThem()
    {
        var (_, specs) = Cnn();
        var kernel = specs.First(s => s.ClassName == "Dense").Weights!.Weights[0].Value.Span.ToArray();   // 16×5
        var original = System.Runtime.InteropServices.MemoryMarshal.AsBytes(kernel.AsSpan()).ToArray();
        foreach (bool zip in new[] { false, true })
        {
            var file = zip ? Zip(specs) : Legacy(specs);
            var h5 = zip ? Entry(file, "model.weights.h5") : file;
            int at = h5.AsSpan().IndexOf(original);
            Assert.True(at > 0);
            var fake = new byte[original.Length];
            void U(int p, ulong v, int size) { for (int i = 0; i < size; i++) fake[p + i] = (byte)(v >> (8 * i)); }
            "GCOL"u8.CopyTo(fake.AsSpan(0)); fake[4] = 1; U(8, 4096, 8); U(16, 1, 2); U(24, 0x7FFF_FFF0, 8);
            "HEAP"u8.CopyTo(fake.AsSpan(64)); U(72, 0x7FFF_FFF0, 8); U(88, 0, 8);
            "OHDR"u8.CopyTo(fake.AsSpan(128)); fake[132] = 2; fake[133] = 0; fake[134] = 0x20; fake[135] = 0x06; U(136, 0x10, 2); fake[139] = 1; fake[140] = 1; U(141, 0xFFF0, 2);
            "SNOD"u8.CopyTo(fake.AsSpan(192)); fake[196] = 1; U(198, 1, 2); U(200, 0, 8); U(208, (ulong)(at + 256), 8);
            fake[256] = 1; U(258, 1, 2); U(260, 1, 4); U(264, 0x20, 4); U(272, 6, 2); U(274, 0x10, 2); fake[280] = 1; fake[281] = 2; U(282, 0x7FFF_FFF0, 4);
            fake.CopyTo(h5.AsSpan(at));
            var bytes = zip ? ReplaceEntry(file, "model.weights.h5", h5) : h5;
            var model = Load(bytes, zip, out _);
            var dense = model.Layers.OfType<Dense>().First();
            Assert.Equal(fake, System.Runtime.InteropServices.MemoryMarshal.AsBytes(dense.Weights[0].Value.Span).ToArray());
        }
    }

    private static byte[] Entry(byte[] zip, string name)
    {
        using var a = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        using var s = a.GetEntry(name)!.Open();
        var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }

    private static byte[] ReplaceEntry(byte[] zip, string name, byte[] content)
    {
        var ms = new MemoryStream();
        ms.Write(zip);
        using (var a = new ZipArchive(ms, ZipArchiveMode.Update, leaveOpen: true))
        {
            a.GetEntry(name)!.Delete();
            using var s = a.CreateEntry(name).Open();
            s.Write(content);
        }
        return ms.ToArray();
    }
}
