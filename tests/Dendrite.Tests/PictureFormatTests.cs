using Dendrite.Data;
using Dendrite.Imaging;
using Dendrite.Models;
using Dendrite.Web;

namespace Dendrite.Tests;

/// <summary>
/// One picture of a digit written by Pillow in every format Dendrite reads (tests/interop/picture_tool.py), made once
/// for the tests that use it: an MNIST test digit (a 7) drawn dark on white, three times the size, on a page taller
/// than wide, so that a picture turned the wrong way, or with its sides swapped, cannot pass for the upright one.
/// </summary>
public sealed class PillowPictures : IDisposable
{
    public const int Width = 84, Height = 100;

    public TempDir Dir { get; } = new();

    public PillowPictures()
    {
        var digit = Mnist.Load().Test.Image(0);
        var px = new byte[Width * Height];
        Array.Fill(px, (byte)255);
        for (int y = 0; y < 84; y++)
            for (int x = 0; x < 84; x++) px[y * Width + x] = (byte)(255 - digit[y / 3 * 28 + x / 3]);
        System.IO.File.WriteAllBytes(Dir.File("digit.u8"), px);
        Tools.Run("/usr/bin/python3", Tools.Interop("picture_tool.py"), "make", Dir.Path, Dir.File("digit.u8"), $"{Width}", $"{Height}");
    }

    public string File(string name) => Dir.File(name);

    public byte[] Bytes(string name) => System.IO.File.ReadAllBytes(Dir.File(name));

    public void Dispose() => Dir.Dispose();
}

public class PictureFormatTests(PillowPictures pictures) : IClassFixture<PillowPictures>
{
    private static readonly Lazy<Predictor> Bundled = new(() => ServedModel.Bundled().Predictor);

    /// <summary>The picture as `dendrite predict` and the server see it: opened by <see cref="Pictures.Open"/>, brought to MNIST's form.</summary>
    internal static float[] Digitized(byte[] file, string name)
    {
        using var rows = Pictures.Open(new MemoryStream(file, writable: false), name);
        return Digitizer.ToMnist(rows);
    }

    private static float MeanAbsDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Average();

    private static int Label(float[] input) => System.Numerics.Tensors.TensorPrimitives.IndexOfMax<float>(Bundled.Value.Predict(input));

    [Theory]
    [InlineData("upright-rgba.png", 0.01)]    // the alpha channel over white: the same grey levels
    [InlineData("digit.bmp", 0.01)]
    [InlineData("digit-rgb.bmp", 0.01)]
    [InlineData("digit.gif", 0.01)]
    [InlineData("animated.gif", 0.01)]         // the first frame
    [InlineData("digit-lossless.webp", 0.01)]
    [InlineData("digit-rgba.webp", 0.01)]
    [InlineData("digit.jpg", 1.0)]             // lossy: within a grey level on average
    [InlineData("digit-lossy.webp", 2.0)]
    public void EachFormatDigitizesAsThePngOfTheSamePicture(string file, double tolerance)
    {
        var png = Digitized(pictures.Bytes("upright.png"), "upright.png");
        using (var rows = Pictures.Open(new MemoryStream(pictures.Bytes(file)), file))
            Assert.Equal((PillowPictures.Width, PillowPictures.Height), (rows.Width, rows.Height));
        var other = Digitized(pictures.Bytes(file), file);
        float mad = MeanAbsDifference(png, other);
        Assert.True(mad <= tolerance, $"{file}: mean difference {mad:F3} grey levels from the PNG's digit (at most {tolerance})");
        if (tolerance < 0.1) Assert.True(png.Zip(other).All(p => Math.Abs(p.First - p.Second) < 0.05f), $"{file}: a lossless picture gives the PNG's pixels");
        Assert.Equal(7, Label(png));
        Assert.Equal(Label(png), Label(other));
    }

    /// <summary>Each EXIF orientation (1–8): the JPEG's stored pixels are turned, its tag says how to turn them back, and it digitizes as the upright picture.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void JpegsAreTurnedUprightByTheirExifOrientation(int orientation)
    {
        string name = $"orient-{orientation}.jpg";
        var upright = Digitized(pictures.Bytes("upright.png"), "upright.png");
        using (var rows = Pictures.Open(new MemoryStream(pictures.Bytes(name)), name))
            Assert.Equal((PillowPictures.Width, PillowPictures.Height), (rows.Width, rows.Height));
        var turned = Digitized(pictures.Bytes(name), name);
        float mad = MeanAbsDifference(upright, turned);
        Assert.True(mad <= 1.0, $"{name}: mean difference {mad:F3} grey levels from the upright digit");
        Assert.Equal(Label(upright), Label(turned));
        // The stored pixels alone (the tag ignored) are far from upright, except for orientation 1: the check can fail.
        if (orientation != 1)
        {
            var stored = StoredAsIs(pictures.Bytes(name));
            Assert.True(MeanAbsDifference(upright, Digitizer.ToMnist(stored, "stored")) > 10, $"{name}: the stored pixels are already upright; the test proves nothing");
        }
    }

    /// <summary>The JPEG's stored pixels, its EXIF orientation ignored, as an <see cref="Image"/>: decoded by ImageSharp directly.</summary>
    private static Image StoredAsIs(byte[] jpeg)
    {
        using var img = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgba32>(jpeg);
        var px = new byte[img.Width * img.Height * 4];
        img.CopyPixelDataTo(px);
        return new Image(img.Width, img.Height, 4, px);
    }

    [Fact]
    public void ExifOrientationMapsEveryPixelOnce()
    {
        const int w = 5, h = 3;
        for (int o = 1; o <= 8; o++)
        {
            bool swap = ExifOrientation.SwapsSides(o);
            int uw = swap ? h : w, uh = swap ? w : h;
            var seen = new HashSet<(int, int)>();
            for (int y = 0; y < uh; y++)
                for (int x = 0; x < uw; x++)
                {
                    var (sx, sy) = ExifOrientation.Source(o, x, y, w, h);
                    Assert.InRange(sx, 0, w - 1);
                    Assert.InRange(sy, 0, h - 1);
                    Assert.True(seen.Add((sx, sy)), $"orientation {o}: stored pixel ({sx}, {sy}) shown twice");
                }
        }
        Assert.Equal(1, ExifOrientation.Normalize(0));
        Assert.Equal(1, ExifOrientation.Normalize(9));
    }

    /// <summary>`dendrite predict` reads every format, one process for all of them, and says the same as the library's path.</summary>
    [Fact]
    public void PredictReadsEveryFormat()
    {
        string[] files = ["upright.png", "digit.jpg", "digit.bmp", "digit.gif", "digit-lossy.webp", "digit-lossless.webp", "orient-6.jpg"];
        string model = Path.Combine(Tools.RepoRoot, "data", "models", "mnist-convnet.dendrite");
        var r = CliTests.Dendrite(pictures.Dir.Path, ["predict", "--model", model, "--top", "1", .. files]);
        Assert.True(r.Exit == 0, r.Err);
        foreach (var f in files) Assert.Contains($"{f}: 7 (", r.Out);
        Assert.Contains("7 images predicted: 7: 7", r.Out);
    }

    /// <summary>Garbage, a truncated JPEG and an unknown format each get a message from `dendrite predict` naming the file and what was wrong, never a stack trace.</summary>
    [Fact]
    public void PredictNamesWhatIsWrongWithABadPicture()
    {
        var jpeg = pictures.Bytes("digit.jpg");
        File.WriteAllBytes(pictures.File("cut.jpg"), jpeg[..(jpeg.Length / 3)]);
        File.WriteAllBytes(pictures.File("noise.webp"), "RIFF\x10\0\0\0WEBPVP8 garbage!"u8.ToArray());
        File.WriteAllBytes(pictures.File("text.gif"), "hello, this is not a picture"u8.ToArray());
        string model = Path.Combine(Tools.RepoRoot, "data", "models", "mnist-convnet.dendrite");
        var r = CliTests.Dendrite(pictures.Dir.Path, "predict", "--model", model, "cut.jpg", "noise.webp", "text.gif");
        Assert.Equal(1, r.Exit);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.DoesNotContain("SixLabors", r.Err);
        Assert.Contains("cut.jpg: ", r.Err);
        Assert.Contains("noise.webp: the WebP file", r.Err);
        Assert.Contains("text.gif: not a PNG, JPEG, BMP, GIF, WebP or PGM picture", r.Err);
    }
}
