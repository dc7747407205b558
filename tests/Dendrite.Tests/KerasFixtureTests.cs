using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dendrite.Data;
using Dendrite.Models;
using Dendrite.Serialization;

namespace Dendrite.Tests;

/// <summary>
/// Keras-layout files written with h5py, as Keras 2, Keras 2.13–2.15 and Keras 3 lay them out (legacy HDF5 and the v3
/// zip, Sequential and Functional, channels-last and channels-first), by tests/interop/keras_fixtures.py, with
/// reference outputs computed by PyTorch in float64 from the same weights: each imports and predicts as the reference,
/// and saves, loads, exports to ONNX and imports again unchanged.
/// </summary>
public sealed class KerasFixtureTests : IClassFixture<KerasFixtureTests.Fixtures>
{
    private const float Tolerance = 1e-5f;

    public sealed class Fixtures : IDisposable
    {
        private readonly TempDir _dir = new();
        public string Folder => _dir.Path;
        public Entry[] Entries { get; }

        public Fixtures()
        {
            Tools.Run("/usr/bin/python3", Tools.Interop("keras_fixtures.py"), _dir.Path);
            Entries = JsonSerializer.Deserialize<Entry[]>(File.ReadAllText(_dir.File("manifest.json")), new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;
        }

        public void Dispose() => _dir.Dispose();
    }

    public sealed record Entry(string File, string Container, bool Functional, bool ChannelsFirst, string Input, int[] InputShape,
        string Output, int[] OutputShape, string[] Layers, string[] Activations);

    private readonly Fixtures _f;

    public KerasFixtureTests(Fixtures f) => _f = f;

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance * Math.Max(1f, Math.Abs(expected[i])), $"{what}, value {i}: expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void TheFixturesCoverEveryLayerActivationAndContainer()
    {
        string[] layers = ["InputLayer", "Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten", "Dropout", "BatchNormalization",
            "Activation", "Rescaling", "Reshape", "GlobalAveragePooling2D", "ZeroPadding2D"];
        Assert.Empty(layers.Except(_f.Entries.SelectMany(e => e.Layers)));
        Assert.Empty(new[] { "relu", "sigmoid", "tanh", "softmax", "linear", "log_softmax" }.Except(_f.Entries.SelectMany(e => e.Activations)));
        Assert.Empty(new[] { "keras2-h5", "keras2-h5-bytes", "keras3-h5", "keras3-zip", "keras215-zip" }.Except(_f.Entries.Select(e => e.Container)));
        Assert.Contains(_f.Entries, e => e.Functional && e.Container.EndsWith("zip", StringComparison.Ordinal));
        Assert.Contains(_f.Entries, e => e.Functional && e.Container.EndsWith("h5", StringComparison.Ordinal));
        Assert.Contains(_f.Entries, e => e.ChannelsFirst && e.InputShape[^1] > 1);
        Assert.Contains(_f.Entries, e => e.ChannelsFirst && e.InputShape[^1] == 1);
    }

    /// <summary>Every file: the reference's outputs within 1e-5; then saved and loaded, and exported to ONNX and imported, unchanged.</summary>
    [Fact]
    public void EachFileImportsAndPredictsAsTheReference()
    {
        using var dir = new TempDir();
        foreach (var e in _f.Entries)
        {
            var model = Sequential.Load(Path.Combine(_f.Folder, e.File));
            // Dendrite takes images channels-last, and one channel as (height, width).
            int[] item = e.InputShape.Length == 4 && e.InputShape[3] == 1 ? e.InputShape[1..3] : e.InputShape[1..];
            Assert.Equal(item, model.InputShape);
            var x = new Tensor(Tools.ReadFloats(Path.Combine(_f.Folder, e.Input)), [e.InputShape[0], .. item]);
            var y = model.Predict(x);
            Assert.Equal(e.OutputShape, y.Shape);
            AssertClose(Tools.ReadFloats(Path.Combine(_f.Folder, e.Output)), y.Span, $"{e.File} against the reference");

            model.Save(dir.File("m.dendrite"));
            AssertClose(y.Span, Sequential.Load(dir.File("m.dendrite")).Predict(x).Span, $"{e.File} saved and loaded");
            Onnx.Export(model, dir.File("m.onnx"));
            AssertClose(y.Span, Sequential.Load(dir.File("m.onnx")).Predict(x).Span, $"{e.File} exported to ONNX and imported");
        }
    }

    /// <summary>A copy of a fixture zip with its config.json changed by <paramref name="edit"/>.</summary>
    private string EditZip(string file, Action<JsonObject> edit, TempDir dir)
    {
        string target = dir.File(file);
        File.Copy(Path.Combine(_f.Folder, file), target);
        using var zip = ZipFile.Open(target, ZipArchiveMode.Update);
        var entry = zip.GetEntry("config.json")!;
        JsonObject config;
        using (var r = new StreamReader(entry.Open())) config = JsonNode.Parse(r.ReadToEnd())!.AsObject();
        edit(config);
        entry.Delete();
        using (var w = new StreamWriter(zip.CreateEntry("config.json").Open())) w.Write(config.ToJsonString());
        return target;
    }

    private static JsonArray Layers(JsonObject config) => config["config"]!["layers"]!.AsArray();

    [Fact]
    public void AFunctionalModelThatIsNotAChainIsRefusedNamingTheLayer()
    {
        using var dir = new TempDir();
        // The last Dense takes the Flatten's output, skipping the Dense before it: a branch.
        string skip = EditZip("keras3-functional-cnn.keras", c =>
        {
            var layers = Layers(c);
            layers[^1]!["inbound_nodes"]![0]!["args"]![0]!["config"]!["keras_history"]![0] = layers[^3]!["name"]!.GetValue<string>();
        }, dir);
        var e = Assert.Throws<InvalidDataFormatException>(() => Sequential.Load(skip));
        Assert.Contains("layer `dense_1` of the Functional model takes its input from `dropout`, not from `dense`", e.Message);
        Assert.Contains("form a chain", e.Message);

        File.Delete(skip);
        string output = EditZip("keras3-functional-cnn.keras", c => c["config"]!["output_layers"]![0] = "dense", dir);
        e = Assert.Throws<InvalidDataFormatException>(() => Sequential.Load(output));
        Assert.Contains("outputs are `dense`, not its last layer `dense_1`", e.Message);
    }

    [Fact]
    public void AChannelsFirstModelThatChangesFormatOrReshapesChannelsIsRefused()
    {
        using var dir = new TempDir();
        string mixed = EditZip("keras3-channels-first.keras", c => Layers(c)[2]!["config"]!["data_format"] = "channels_last", dir);
        var e = Assert.Throws<InvalidDataFormatException>(() => Sequential.Load(mixed));
        Assert.Contains("layer `max_pooling2d` is channels_last but receives channels-first data", e.Message);

        File.Delete(mixed);
        string axis = EditZip("keras3-channels-first.keras", c => Layers(c)[3]!["config"]!["axis"] = -1, dir);
        e = Assert.Throws<InvalidDataFormatException>(() => Sequential.Load(axis));
        Assert.Contains("layer `batch_normalization` normalizes axis 3 of channels-first data", e.Message);

        File.Delete(axis);
        // After the (C, H, W)-order Flatten only a Dense layer can take the reordering.
        string reshape = EditZip("keras3-channels-first.keras", c => Layers(c).Insert(5, JsonNode.Parse(
            """{"module": "keras.layers", "class_name": "Reshape", "config": {"name": "reshape", "target_shape": [36]}}""")), dir);
        e = Assert.Throws<InvalidDataFormatException>(() => Sequential.Load(reshape));
        Assert.Contains("layer `reshape` (Reshape) follows a Flatten of channels-first data", e.Message);
    }

    /// <summary>
    /// The files h5py writes (version 1 object headers and symbol-table groups, unlike PureHDF's own writer) under the
    /// same in-process fuzzing as FuzzTests.KerasFiles: each mutation imports or is our error, within the allocation cap.
    /// </summary>
    [Fact]
    public void H5pyFilesSurviveMutation()
    {
        var samples = new[] { "keras2-cnn-same-strides.h5", "keras3-cnn-colour.h5", "keras3-cnn-same-strides.keras" }
            .Select(f => File.ReadAllBytes(Path.Combine(_f.Folder, f))).ToArray();
        var (loaded, rejected) = FuzzTests.Fuzz(samples, 1803, input => 8_000_000 + 64L * input.Length, (input, sample) =>
        {
            using var f = sample == 2
                ? Serialization.Import.KerasFile.OpenZip(new MemoryStream(input, writable: false), "fuzz.keras")
                : Serialization.Import.KerasFile.OpenHdf5(input, "fuzz.h5");
            Assert.True(Serialization.Import.ModelImport.FromKeras(f, "fuzz", null, out _).IsBuilt);
        }, mutations: 6000);
        Assert.True(loaded > 100 && rejected > 600, $"loaded {loaded}, rejected {rejected}");
    }
}
