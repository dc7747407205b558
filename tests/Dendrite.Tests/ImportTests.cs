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
}
