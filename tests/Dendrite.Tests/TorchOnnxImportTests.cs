using System.Text.Json;
using Dendrite.Data;
using Dendrite.Models;
using Dendrite.Serialization;
using Dendrite.Serialization.Import;

namespace Dendrite.Tests;

/// <summary>
/// ONNX files written by torch.onnx.export (tests/interop/torch_onnx_fixtures.py, run into a temporary folder once for the
/// class) at opsets 7 to 21: each imports, predicts as PyTorch did, and exports back to ONNX and imports again unchanged.
/// </summary>
public sealed class TorchOnnxImportTests : IClassFixture<TorchOnnxImportTests.Fixtures>
{
    private const float Tolerance = 1e-5f;

    public sealed class Fixtures : IDisposable
    {
        private readonly TempDir _dir = new();
        public string Folder => _dir.Path;
        public Entry[] Entries { get; }

        public Fixtures()
        {
            Tools.Run("/usr/bin/python3", Tools.Interop("torch_onnx_fixtures.py"), _dir.Path);
            Entries = JsonSerializer.Deserialize<Entry[]>(File.ReadAllText(_dir.File("manifest.json")), new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;
        }

        public void Dispose() => _dir.Dispose();
    }

    public sealed record Entry(string File, int Opset, string Input, int[] InputShape, string Output, int[] OutputShape);

    private readonly Fixtures _f;

    public TorchOnnxImportTests(Fixtures f) => _f = f;

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance * Math.Max(1f, Math.Abs(expected[i])), $"{what}, value {i}: expected {expected[i]}, got {actual[i]}");
    }

    private (Sequential Model, Tensor X, float[] Expected) Load(Entry e)
    {
        var model = Sequential.Load(Path.Combine(_f.Folder, e.File));
        // Images come channels-last, and Dendrite takes one channel as (height, width).
        int[] item = e.InputShape.Length == 4 && e.InputShape[3] == 1 ? e.InputShape[1..3] : e.InputShape[1..];
        Assert.Equal(item, model.InputShape);
        var x = new Tensor(Tools.ReadFloats(Path.Combine(_f.Folder, e.Input)), [e.InputShape[0], .. item]);
        return (model, x, Tools.ReadFloats(Path.Combine(_f.Folder, e.Output)));
    }

    [Fact]
    public void TheFixturesCoverEveryOpAtEveryOpset()
    {
        var seen = new HashSet<string>();
        foreach (var e in _f.Entries)
        {
            var m = OnnxModel.Parse(File.ReadAllBytes(Path.Combine(_f.Folder, e.File)), e.File, Path.GetDirectoryName(Path.Combine(_f.Folder, e.File))!);
            Assert.Equal(e.Opset, m.Opset);
            seen.UnionWith(m.Nodes.Select(n => n.OpType));
        }
        string[] issue = ["Conv", "Gemm", "MatMul", "Add", "Relu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "MaxPool", "AveragePool", "GlobalAveragePool",
            "BatchNormalization", "Flatten", "Dropout", "Identity", "Reshape", "Shape", "Gather", "Unsqueeze", "Concat", "Constant", "Pad"];
        Assert.Empty(issue.Except(seen));
        Assert.Equal([7, 9, 11, 13, 17, 18, 21], _f.Entries.Select(e => e.Opset).Distinct().Order());
        Assert.Contains(_f.Entries, e => e.File.StartsWith("external/", StringComparison.Ordinal));
    }

    /// <summary>Every file: PyTorch's outputs within 1e-5, and Dendrite's export of the imported model imports to the same outputs.</summary>
    [Fact]
    public void EachFileImportsPredictsAsPyTorchAndRoundTrips()
    {
        using var dir = new TempDir();
        foreach (var e in _f.Entries)
        {
            var (model, x, expected) = Load(e);
            var y = model.Predict(x);
            Assert.Equal(e.OutputShape, y.Shape);
            AssertClose(expected, y.Span, $"{e.File} against PyTorch");

            string back = dir.File(e.File.Replace('/', '-') + ".back.onnx");
            Onnx.Export(model, back);
            var again = Sequential.Load(back);
            AssertClose(y.Span, again.Predict(x).Span, $"{e.File} exported by Dendrite and imported again");
        }
    }

    /// <summary>Dendrite's onnx.proto against the onnx package's schema: same numbers, types, labels, packing for all it declares.</summary>
    [Fact]
    public void OurSchemaAgreesWithTheOnnxPackages()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("onnx.desc"), Serialization.OnnxProto.OnnxReflection.Descriptor.SerializedData.ToByteArray());
        Assert.StartsWith("ok ", Tools.Run("/usr/bin/python3", Tools.Interop("onnx_schema_check.py"), dir.File("onnx.desc")));
    }

    [Fact]
    public void LogSoftmaxImportsAsALayerAndExportsAsLogSoftmax()
    {
        var e = _f.Entries.First(e => e.File == "convnet-opset13.onnx");
        var (model, _, _) = Load(e);
        Assert.Equal(ActivationFunction.LogSoftmax, Assert.IsType<Layers.Activation>(model.Layers[^1]).Function);
        var exported = OnnxModel.Parse(Onnx.Export(model), "export", _f.Folder);
        Assert.Contains(exported.Nodes, n => n.OpType == "LogSoftmax" && n.Int("axis", 0) == 1);
        using var dir = new TempDir();
        model.Save(dir.File("m.dendrite"));
        Assert.Equal(ActivationFunction.LogSoftmax, Assert.IsType<Layers.Activation>(Sequential.Load(dir.File("m.dendrite")).Layers[^1]).Function);
    }

    /// <summary>External data is read only from the model's folder, and its offset and length must fit the file.</summary>
    [Fact]
    public void ExternalDataStaysInTheModelsFolder()
    {
        using var dir = new TempDir();
        string source = Path.Combine(_f.Folder, "external");
        var proto = Serialization.OnnxProto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(Path.Combine(source, "convnet.onnx")));
        var first = proto.Graph.Initializer.First(t => t.DataLocation == Serialization.OnnxProto.TensorProto.Types.DataLocation.External);
        var location = first.ExternalData.First(kv => kv.Key == "location");

        void Expect(string value, string message, string? key = null)
        {
            var copy = proto.Clone();
            var t = copy.Graph.Initializer.First(t => t.Name == first.Name);
            t.ExternalData.First(kv => kv.Key == (key ?? "location")).Value = value;
            Directory.CreateDirectory(dir.File("model"));
            File.WriteAllBytes(dir.File("model/m.onnx"), Google.Protobuf.MessageExtensions.ToByteArray(copy));
            var ex = Assert.Throws<InvalidDataFormatException>(() => Sequential.Load(dir.File("model/m.onnx")));
            Assert.Contains(message, ex.Message);
            Assert.Contains("m.onnx", ex.Message);
        }

        File.Copy(Path.Combine(source, location.Value), dir.File(location.Value));   // beside the folder, not in it
        Expect("../" + location.Value, "outside the model's folder");
        Expect(dir.File(location.Value), "outside the model's folder");
        File.CreateSymbolicLink(dir.File("model/link.data"), dir.File(location.Value));
        Expect("link.data", "outside the model's folder");
        File.Copy(Path.Combine(source, location.Value), dir.File("model/" + location.Value));
        Expect("99999999", "which holds", key: "offset");
        Expect("3", "length", key: "length");
    }

    /// <summary>A cut file and a file of the wrong kind fail with the file named, in Dendrite's exception.</summary>
    [Fact]
    public void DamagedFilesFailWithTheFileNamed()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(Path.Combine(_f.Folder, "padnet-opset17.onnx"));
        foreach (int cut in new[] { 3, bytes.Length / 3, bytes.Length - 1 })
        {
            File.WriteAllBytes(dir.File("cut.onnx"), bytes[..cut]);
            var e = Assert.Throws<InvalidDataFormatException>(() => Sequential.Load(dir.File("cut.onnx")));
            Assert.Contains("cut.onnx", e.Message);
            Assert.IsNotType<Google.Protobuf.InvalidProtocolBufferException>(e);
        }
        // Nesting past what the schema needs (groups within groups) is refused before it can exhaust the stack.
        var deep = new List<byte> { 0x08, 0x07 };
        for (int i = 0; i < 10_000; i++) deep.Add(0x7B);   // field 15, wire type 3: start group
        File.WriteAllBytes(dir.File("deep.onnx"), [.. deep]);
        var d = Assert.Throws<InvalidDataFormatException>(() => Sequential.Load(dir.File("deep.onnx")));
        Assert.Contains("deep.onnx", d.Message);
    }
}
