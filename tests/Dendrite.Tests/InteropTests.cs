using Dendrite.Data;
using Dendrite.Imaging;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;
using Dendrite.Serialization;

namespace Dendrite.Tests;

/// <summary>Dendrite's files read by other people's code: onnxruntime, the onnx checker, PyTorch, Pillow.</summary>
public class InteropTests
{
    private static (Dataset Train, Dataset Test) Data => ModelTests.Data.Value;

    private static Sequential Model()
    {
        var m = new Sequential(new Flatten(inputShape: [28, 28]), new Rescaling(1f / 255, 0.01f), new Dense(40, "tanh"),
            new Dense(24, "relu", useBias: false), new Dense(16, "sigmoid"), new Dense(10), new Activation("softmax")) { Seed = 8 };
        m.Compile("categorical_crossentropy", new SGD(0.1f));
        m.Fit(Data.Train.Take(500), batchSize: 50, epochs: 1, verbose: 0);
        return m;
    }

    /// <summary>A small CNN with every image layer, trained a little so that BatchNormalization's moving statistics move.</summary>
    private static Sequential Cnn(bool globalPool)
    {
        var m = new Sequential(new Reshape([28, 28, 1], inputShape: [28, 28]), new Rescaling(1f / 255),
            new Conv2D(6, 3, strides: 2, padding: "same", activation: "relu"), new BatchNormalization(),
            new MaxPooling2D(3, 2, padding: "same"), new Conv2D(8, (2, 3), activation: "tanh"),
            new AveragePooling2D(2, padding: "same")) { Seed = 9 };
        if (globalPool) m.Add(new GlobalAveragePooling2D());
        else { m.Add(new Flatten()); m.Add(new Dropout(0.3f)); }
        m.Add(new BatchNormalization());
        m.Add(new Dense(10, "softmax"));
        m.Compile("categorical_crossentropy", new SGD(0.1f));
        m.Fit(Data.Train.Take(300), batchSize: 50, epochs: 1, verbose: 0);
        return m;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void OnnxRuntimeGivesACnnsOutputsAndTheCheckerAcceptsIt(bool globalPool)
    {
        using var dir = new TempDir();
        var model = Cnn(globalPool);
        var images = Data.Test.Take(64);
        var expected = model.Predict(images).ToArray();
        Onnx.Export(model, dir.File("m.onnx"));
        Tools.WriteFloats(dir.File("in.f32"), images.ImagesAsTensor().Span);
        var info = Tools.Run("node", Tools.Interop("onnx_run.js"), dir.File("m.onnx"), dir.File("in.f32"), "64", "28,28", dir.File("out.f32"));
        Assert.Contains("\"shape\":[64,10]", info);
        AssertClose(expected, Tools.ReadFloats(dir.File("out.f32")), 1e-4f);
        Assert.StartsWith("ok 7", Tools.Run("/usr/bin/python3", Tools.Interop("onnx_check.py"), dir.File("m.onnx")));
    }

    [Fact]
    public void PyTorchReproducesACnnsPredictionsFromTheFileAlone()
    {
        using var dir = new TempDir();
        var model = Cnn(globalPool: false);
        var images = Data.Test.Take(100);
        model.Save(dir.File("m.dendrite"));
        Tools.WriteFloats(dir.File("in.f32"), images.ImagesAsTensor().Span);
        Tools.Run("/usr/bin/python3", Tools.Interop("torch_predict.py"), dir.File("m.dendrite"), dir.File("in.f32"), "100", dir.File("out.f32"));
        AssertClose(model.Predict(images).ToArray(), Tools.ReadFloats(dir.File("out.f32")), 1e-5f);
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: Dendrite {expected[i]}, other {actual[i]}");
    }

    [Fact]
    public void OnnxRuntimeGivesDendritesOutputs()
    {
        using var dir = new TempDir();
        var model = Model();
        var images = Data.Test.Take(64);
        var expected = model.Predict(images).ToArray();
        Onnx.Export(model, dir.File("m.onnx"));
        Tools.WriteFloats(dir.File("in.f32"), images.ImagesAsTensor().Span);
        var info = Tools.Run("node", Tools.Interop("onnx_run.js"), dir.File("m.onnx"), dir.File("in.f32"), "64", "28,28", dir.File("out.f32"));
        Assert.Contains("\"shape\":[64,10]", info);
        AssertClose(expected, Tools.ReadFloats(dir.File("out.f32")), 1e-5f);
    }

    [Fact]
    public void TheOnnxCheckerAcceptsTheExport()
    {
        using var dir = new TempDir();
        Onnx.Export(Model(), dir.File("m.onnx"));
        var output = Tools.Run("/usr/bin/python3", Tools.Interop("onnx_check.py"), dir.File("m.onnx"));
        Assert.StartsWith("ok 7", output);
    }

    [Fact]
    public void PyTorchReproducesPredictionsFromTheFileAlone()
    {
        using var dir = new TempDir();
        var model = Model();
        var images = Data.Test.Take(100);
        model.Save(dir.File("m.dendrite"));
        Tools.WriteFloats(dir.File("in.f32"), images.ImagesAsTensor().Span);
        Tools.Run("/usr/bin/python3", Tools.Interop("torch_predict.py"), dir.File("m.dendrite"), dir.File("in.f32"), "100", dir.File("out.f32"));
        AssertClose(model.Predict(images).ToArray(), Tools.ReadFloats(dir.File("out.f32")), 1e-5f);
    }

    /// <summary>One picture saved by Pillow in every mode it writes; each supported one decodes to the same grey levels.</summary>
    [Fact]
    public void PngsWrittenByPillowDecode()
    {
        using var dir = new TempDir();
        var digit = Data.Test.Image(0).ToArray();
        File.WriteAllBytes(dir.File("digit.u8"), digit);
        Tools.Run("/usr/bin/python3", Tools.Interop("png_tool.py"), "make", dir.Path, dir.File("digit.u8"), "28", "28");
        foreach (var mode in new[] { "L", "LA", "RGB", "RGBA", "P" })
        {
            var img = Image.Load(dir.File(mode + ".png"));
            Assert.Equal(28, img.Width);
            var grey = img.ToGrey();
            for (int i = 0; i < digit.Length; i++) Assert.True(Math.Abs(grey[i] - digit[i]) <= 1, $"{mode}: pixel {i} is {grey[i]}, expected {digit[i]}");
        }
        // Pillow writes no interlaced PNGs: mark its file interlaced (IHDR byte 12) and re-sign the chunk.
        var interlaced = File.ReadAllBytes(dir.File("L.png"));
        interlaced[28] = 1;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(interlaced.AsSpan(29), Crc32.Compute(interlaced.AsSpan(12, 17)));
        Assert.Contains("interlaced", Assert.Throws<InvalidDataFormatException>(() => Png.Decode(interlaced, "interlaced.png")).Message);
        Assert.Contains("16-bit", Assert.Throws<InvalidDataFormatException>(() => Image.Load(dir.File("16bit.png"))).Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void PillowReadsDendritesPngs(int channels)
    {
        using var dir = new TempDir();
        var rng = new Rng(4);
        var px = new byte[37 * 23 * channels];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)rng.NextInt(256);
        Png.Save(new Image(37, 23, channels, px), dir.File("x.png"));
        var info = Tools.Run("/usr/bin/python3", Tools.Interop("png_tool.py"), "read", dir.File("x.png"), dir.File("x.rgba"));
        Assert.StartsWith(channels switch { 1 => "L 37 23", 3 => "RGB 37 23", _ => "RGBA 37 23" }, info);
        var rgba = File.ReadAllBytes(dir.File("x.rgba"));
        for (int p = 0; p < 37 * 23; p++)
            for (int c = 0; c < 4; c++)
            {
                byte expected = c == 3 ? (channels == 4 ? px[p * 4 + 3] : (byte)255) : px[p * channels + (channels == 1 ? 0 : c)];
                Assert.Equal(expected, rgba[p * 4 + c]);
            }
        var back = Png.Decode(File.ReadAllBytes(dir.File("x.png")));
        Assert.Equal(px, back.Pixels);
    }
}
