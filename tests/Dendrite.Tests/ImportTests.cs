using System.Runtime.InteropServices;
using Dendrite.Data;
using Dendrite.Models;
using Dendrite.Serialization;
using Dendrite.Serialization.Import;

namespace Dendrite.Tests;

/// <summary>Models made by other people (../shared/models, see its README) imported and checked against reference outputs.</summary>
public class ImportTests
{
    private static (Dataset Train, Dataset Test) Data => ModelTests.Data.Value;

    internal static string SharedModel(string file)
    {
        string path = Path.GetFullPath(Path.Combine(Tools.RepoRoot, "..", "shared", "models", file));
        Assert.True(File.Exists(path), $"{path} is missing: the import tests read the third-party models from ../shared/models.");
        return path;
    }

    private static float[] Reference(string file)
    {
        var bytes = File.ReadAllBytes(SharedModel(file) + ".ref.f32");
        Assert.Equal(10000 * 10 * 4, bytes.Length);
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    [Theory]
    [InlineData("tf2onnx-qianxyz-lenet.onnx", "mean-std:0.1307,0.3081", 1e-5, 0.9873)]
    [InlineData("torch22-akazhiyu-cnn-bn.onnx", "mean-std:0.1307,0.3081", 1e-4, 0.9966)]
    [InlineData("keras2-kilneta-cnn.h5", "0-1", 1e-5, 0.9938)]
    [InlineData("keras3-gnudisme-cnn.h5", "0-1", 1e-5, 0.9936)]
    [InlineData("keras3-charm0625-cnn-bn.keras", "0-1", 1e-5, 0.9919)]
    [InlineData("keras3-devshah-mlp.keras", "0-1", 1e-5, 0.9588)]
    public void AThirdPartyModelMatchesItsReference(string file, string scale, double tolerance, double accuracy)
    {
        var model = ModelImport.Load(SharedModel(file), ModelImport.ParseScale(scale));
        var expected = Reference(file);
        var actual = model.Predict(Data.Test).Span;
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0; int correct = 0, agree = 0;
        for (int i = 0; i < 10000; i++)
        {
            int a = 0, e = 0;
            for (int j = 0; j < 10; j++)
            {
                worst = Math.Max(worst, Math.Abs(actual[i * 10 + j] - expected[i * 10 + j]));
                if (actual[i * 10 + j] > actual[i * 10 + a]) a = j;
                if (expected[i * 10 + j] > expected[i * 10 + e]) e = j;
            }
            if (a == e) agree++;
            if (a == Data.Test.Labels[i]) correct++;
        }
        Assert.True(worst <= tolerance, $"{file}: largest difference from the reference {worst:G3}, over {tolerance:G3}.");
        Assert.Equal(10000, agree);
        Assert.Equal(accuracy, correct / 10000.0, 4);
    }

    [Fact]
    public void LoadTellsFormatsApartByContent()
    {
        string dir = Directory.CreateTempSubdirectory("dendrite-import").FullName;
        try
        {
            string copy = Path.Combine(dir, "model.bin");
            File.Copy(SharedModel("tf2onnx-qianxyz-lenet.onnx"), copy);
            Assert.Equal(ModelFormat.Onnx, ModelImport.Sniff(copy));
            var m = Sequential.Load(copy);
            Assert.Equal([10], m.OutputShape);
            string saved = Path.Combine(dir, "saved.weird");
            m.Save(saved);
            Assert.Equal(ModelFormat.Dendrite, ModelImport.Sniff(saved));
            Assert.Equal(ModelFormat.Hdf5, ModelImport.Sniff(SharedModel("keras2-kilneta-cnn.h5")));
            Assert.Equal(ModelFormat.KerasZip, ModelImport.Sniff(SharedModel("keras3-devshah-mlp.keras")));
            File.WriteAllText(Path.Combine(dir, "text.onnx"), "hello, not a model");
            var e = Assert.Throws<InvalidDataFormatException>(() => Sequential.Load(Path.Combine(dir, "text.onnx")));
            Assert.Contains("not a model Dendrite reads", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("0-1", 255f, 1f)]
    [InlineData("mean-std:0.5,0.5", 0f, -1f)]
    [InlineData("mean-std:0.5,0.5", 255f, 1f)]
    public void ScaleIsARescalingLayer(string scale, float pixel, float expected)
    {
        var r = ModelImport.ParseScale(scale)!;
        Assert.Equal(expected, pixel * r.Scale + r.Offset, 5);
    }

    [Theory]
    [InlineData("1-0")]
    [InlineData("mean-std:0.5")]
    [InlineData("mean-std:0.5,0")]
    public void ABadScaleIsRefusedWithTheChoices(string scale)
    {
        var e = Assert.Throws<ArgumentException>(() => ModelImport.ParseScale(scale));
        Assert.Contains("mean-std:M,S", e.Message);
    }

    private static float MaxDifference(Tensor a, Tensor b)
    {
        Assert.Equal(a.Length, b.Length);
        float worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a.Span[i] - b.Span[i]));
        return worst;
    }

    /// <summary>`dendrite serve --model X.onnx --scale S` serves the imported model: its predictor answers as the import does.</summary>
    [Fact]
    public void ServeOpensAModelMadeElsewhere()
    {
        var scale = "mean-std:0.1307,0.3081";
        var served = Web.ServedModel.Load(SharedModel("tf2onnx-qianxyz-lenet.onnx"), ModelImport.ParseScale(scale));
        var model = ModelImport.Load(SharedModel("tf2onnx-qianxyz-lenet.onnx"), ModelImport.ParseScale(scale));
        var few = Data.Test.Take(20);
        var expected = model.Predict(few);
        var x = few.ImagesAsTensor();
        for (int i = 0; i < 20; i++)
        {
            var got = served.Predictor.Predict(x[i].Span);   // one image at a time: another GEMM path than the batch, so within rounding
            var want = expected[i].ToArray();
            for (int j = 0; j < want.Length; j++) Assert.True(Math.Abs(want[j] - got[j]) <= 1e-5f, $"image {i}, class {j}: {want[j]} against {got[j]}");
        }
    }

    /// <summary>An imported model is an ordinary one: saved, loaded, exported to ONNX and imported again, it predicts the same.</summary>
    [Fact]
    public void AnImportedModelSavesExportsAndFineTunes()
    {
        using var dir = new TempDir();
        var model = ModelImport.Load(SharedModel("torch22-akazhiyu-cnn-bn.onnx"), ModelImport.ParseScale("mean-std:0.1307,0.3081"));
        Assert.Contains(model.Layers, l => l is Layers.ZeroPadding2D);   // its 5×5 stride-2 convolutions pad 2 on every side
        var few = Data.Test.Take(200);
        var before = model.Predict(few);
        model.Save(dir.File("m.dendrite"));
        var loaded = Sequential.Load(dir.File("m.dendrite"));
        Assert.Equal(0f, MaxDifference(before, loaded.Predict(few)));
        Onnx.Export(loaded, dir.File("back.onnx"));
        var again = Sequential.Load(dir.File("back.onnx"));
        Assert.True(MaxDifference(before, again.Predict(few)) <= 1e-5f);

        // Fine-tuning moves it, and it still classifies (its output is logits: train it with a softmax on top).
        var tuned = ModelImport.Load(SharedModel("tf2onnx-qianxyz-lenet.onnx"), ModelImport.ParseScale("mean-std:0.1307,0.3081"));
        var w0 = tuned.GetWeights()[0].Clone();
        tuned.Compile("categorical_crossentropy", new Optimizers.SGD(0.01f));
        tuned.Fit(Data.Train.Take(256), batchSize: 64, epochs: 1, verbose: 0);
        Assert.NotEqual(0f, MaxDifference(w0, tuned.GetWeights()[0]));
        Assert.True(tuned.Evaluate(Data.Test.Take(500)).Accuracy > 0.95);
    }

    [Fact]
    public void AnUnsupportedOpIsNamedWithTheSupportedOnes()
    {
        using var dir = new TempDir();
        var m = new Sequential(new Layers.Flatten(inputShape: [4, 4]), new Layers.Dense(3, "relu"), new Layers.Dense(2, "softmax")) { Seed = 1 };
        m.Build([4, 4]);
        var bytes = Onnx.Export(m);
        // "Relu" and "Selu" have the same length, so the file stays valid protobuf with an op Dendrite does not know.
        var text = System.Text.Encoding.Latin1.GetString(bytes);
        int at = text.IndexOf("Relu", StringComparison.Ordinal);
        Assert.True(at > 0);
        bytes[at] = (byte)'S'; bytes[at + 1] = (byte)'e';
        File.WriteAllBytes(dir.File("m.onnx"), bytes);
        var e = Assert.Throws<InvalidDataFormatException>(() => Sequential.Load(dir.File("m.onnx")));
        Assert.Contains("(Selu)", e.Message);
        Assert.Contains("op Selu is not supported", e.Message);
        Assert.Contains("Conv, Div, Dropout", e.Message);

        // A damaged file: cut short, it fails with the file named, not an index error.
        File.WriteAllBytes(dir.File("cut.onnx"), bytes[..(bytes.Length / 2)]);
        var cut = Assert.Throws<InvalidDataFormatException>(() => Sequential.Load(dir.File("cut.onnx")));
        Assert.Contains("cut.onnx", cut.Message);
    }

    [Fact]
    public void TheCliImportsEvaluatesAndHintsAtTheScale()
    {
        using var dir = new TempDir();
        string source = SharedModel("tf2onnx-qianxyz-lenet.onnx");
        var ok = CliTests.Dendrite(dir.Path, "import", source, "lenet.dendrite", "--scale", "mean-std:0.1307,0.3081");
        Assert.True(ok.Exit == 0, ok.Err);
        Assert.Contains("lenet.dendrite", ok.Out);
        var eval = CliTests.Dendrite(dir.Path, "evaluate", "--model", "lenet.dendrite");
        Assert.True(eval.Exit == 0, eval.Err);
        Assert.Contains("accuracy: 0.9873", eval.Out);
        Assert.DoesNotContain("near chance", eval.Err);
        var direct = CliTests.Dendrite(dir.Path, "summary", "--model", source);
        Assert.True(direct.Exit == 0, direct.Err);
        Assert.Contains("Conv2D", direct.Out);

        // The torch model expects (x/255 - 0.1307)/0.3081; given x/255 it is near chance, and evaluate says so.
        var wrong = CliTests.Dendrite(dir.Path, "import", SharedModel("torch22-akazhiyu-cnn-bn.onnx"), "t.dendrite", "--scale", "0-1");
        Assert.True(wrong.Exit == 0, wrong.Err);
        var low = CliTests.Dendrite(dir.Path, "evaluate", "--model", "t.dendrite");
        Assert.Contains("near chance", low.Err);
        Assert.Contains("--scale", low.Err);
        var bad = CliTests.Dendrite(dir.Path, "import", source, "x.dendrite", "--scale", "half");
        Assert.NotEqual(0, bad.Exit);
        Assert.Contains("mean-std:M,S", bad.Err);
    }
}
