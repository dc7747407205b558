using System.Diagnostics;
using Dendrite.Data;
using Dendrite.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit.Abstractions;
using Image = Dendrite.Imaging.Image;

namespace Dendrite.Tests;

/// <summary>
/// Seeded, in-process fuzzing of every picture format through <see cref="Pictures.Open"/>, the path `dendrite predict`
/// and the server take (the same mutations as <see cref="FuzzTests"/>). Every outcome must be a picture or our error
/// type, never another exception, within a memory cap. The samples are written by ImageSharp's encoders in-process.
/// </summary>
public class PictureFuzzTests(ITestOutputHelper output)
{
    private const int Mutations = 1500;

    /// <summary>A small picture with structure in it: a dark ring on a light gradient, 26×19 (odd sizes on purpose).</summary>
    private static Image<Rgba32> Sample()
    {
        var img = new Image<Rgba32>(26, 19);
        for (int y = 0; y < img.Height; y++)
            for (int x = 0; x < img.Width; x++)
            {
                double r = Math.Sqrt((x - 13) * (x - 13) + (y - 9) * (y - 9));
                byte v = Math.Abs(r - 6) < 2 ? (byte)20 : (byte)(180 + x * 2);
                img[x, y] = new Rgba32(v, (byte)(v - y), (byte)(255 - v), (byte)(x < 3 ? 128 : 255));
            }
        return img;
    }

    private static byte[] Encode(IImageEncoder encoder)
    {
        using var img = Sample();
        var ms = new MemoryStream();
        img.Save(ms, encoder);
        return ms.ToArray();
    }

    public static TheoryData<string> Formats => ["jpeg", "bmp", "gif", "webp-lossy", "webp-lossless", "png"];

    private static byte[][] Samples(string format) => format switch
    {
        "jpeg" => [Encode(new JpegEncoder { Quality = 90 }), Encode(new JpegEncoder { Quality = 50, ColorType = JpegColorType.Luminance })],
        "bmp" => [Encode(new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 }), Encode(new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel8 }), Encode(new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel32, SupportTransparency = true })],
        "gif" => [Encode(new GifEncoder())],
        "webp-lossy" => [Encode(new WebpEncoder { FileFormat = WebpFileFormatType.Lossy, Quality = 80 })],
        "webp-lossless" => [Encode(new WebpEncoder { FileFormat = WebpFileFormatType.Lossless })],
        _ => [Encode(new PngEncoder()), FuzzTests.PalettePng(11, 7)],
    };

    /// <summary>Each mutation opens (header, size caps, completeness) and reads to grey levels as the server would (its smaller pixel cap applied first), or fails with our error.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public void EveryFormatFailsCleanlyOnMutatedFiles(string format)
    {
        var samples = Samples(format);
        var rng = new Rng(1801 + (ulong)format.Length);
        int loaded = 0, rejected = 0, capped = 0;
        for (int i = 0; i < Mutations; i++)
        {
            var input = FuzzTests.Mutate(samples[i % samples.Length], rng);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using var rows = Pictures.Open(new MemoryStream(input, writable: false), "fuzz");
                // The server's check after the header (its Limits), scaled down: no pixel is decoded over it.
                if ((long)rows.Width * rows.Height > 1 << 16) { capped++; continue; }
                var grey = Image.ReadGrey(rows, 32, out int w, out int h);
                Assert.True(w <= 32 && h <= 32 && grey.Length == w * h);
                loaded++;
            }
            catch (InvalidDataFormatException e)
            {
                Assert.StartsWith("fuzz: ", e.Message);
                rejected++;
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException($"{format} mutation {i}: {e.GetType().Name}: {e.Message}\ninput (base64): {Convert.ToBase64String(input)}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 32_000_000, $"{format} mutation {i} allocated {allocated:N0} bytes; input (base64): {Convert.ToBase64String(input)}");
        }
        output.WriteLine($"{format}: {loaded} loaded, {rejected} rejected with our error, {capped} over the pixel cap, of {Mutations}");
        Assert.True(loaded > 0 && rejected > Mutations / 10, $"{format}: {loaded} loaded, {rejected} rejected");
    }

    /// <summary>
    /// The issue's question for PNG: our decoder or ImageSharp's? Both read the same mutated PNGs (10,000 with their
    /// CRCs as mutated, 10,000 with every CRC recomputed so that the checks behind them are tested). Counted for each:
    /// loads identical to the original, loads that differ (a silently wrong picture), rejections with the decoder's own
    /// error type, headers over a pixel cap (2^16, checked before decoding, for both), and other exceptions (a crash a caller would have to catch blindly). Ours must have no silently wrong
    /// load while the CRCs are intact and no crash at all; the counts are written to the test output (run with
    /// --logger "console;verbosity=detailed") and quoted in the README.
    /// </summary>
    [Fact]
    public void PngDecodersOnTheSameMutatedCorpus()
    {
        var px = new byte[30 * 20 * 4];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)(i * 13 % 251);
        var grey = new byte[17 * 9];
        for (int i = 0; i < grey.Length; i++) grey[i] = (byte)(i * 7);
        var samples = new[] { Png.Encode(new Image(30, 20, 4, px)), Png.Encode(new Image(17, 9, 1, grey)), FuzzTests.PalettePng(11, 7) };
        var originals = samples.Select(s => Rgba(Png.Decode(s))).ToArray();
        var imageSharp = new Configuration(new PngConfigurationModule()) { MaxDegreeOfParallelism = 1 };
        foreach (bool resealed in new[] { false, true })
        {
            var rng = new Rng(resealed ? 1806UL : 1805UL);
            var ours = new Tally();
            var theirs = new Tally();
            for (int i = 0; i < 10_000; i++)
            {
                int s = i % samples.Length;
                var input = FuzzTests.Mutate(samples[s], rng);
                if (resealed) input = FuzzTests.ResealPng(input);
                // The same pixel cap for both, read from the header before decoding (as Pictures.Open and the server do).
                ours.Count(() =>
                {
                    using (var rows = ImageRows.Open(new MemoryStream(input), "fuzz.png"))
                        if ((long)rows.Width * rows.Height > PixelCap) return null;
                    return Rgba(Png.Decode(input, "fuzz.png"));
                }, originals[s], e => e is InvalidDataFormatException);
                theirs.Count(() =>
                {
                    var info = SixLabors.ImageSharp.Image.Identify(imageSharp, input, out _);
                    if (info is not null && (long)info.Width * info.Height > PixelCap) return null;
                    using var img = SixLabors.ImageSharp.Image.Load<Rgba32>(imageSharp, input);
                    var b = new byte[img.Width * img.Height * 4];
                    img.CopyPixelDataTo(b);
                    return (img.Width, img.Height, b);
                }, originals[s], e => e is ImageFormatException);
            }
            string kind = resealed ? "CRCs recomputed" : "CRCs as mutated";
            output.WriteLine($"PNG, 10,000 mutations, {kind}: Dendrite {ours}; ImageSharp 2.1.13 {theirs}");
            Assert.Equal(0, ours.Crashed);
            if (!resealed) Assert.Equal(0, ours.Altered);
        }
    }

    private const long PixelCap = 1 << 16;

    private static (int, int, byte[]) Rgba(Image image)
    {
        var b = new byte[image.Width * image.Height * 4];
        for (int i = 0; i < image.Width * image.Height; i++)
        {
            int c = image.Channels, o = i * c;
            b[4 * i] = image.Pixels[o];
            b[4 * i + 1] = image.Pixels[c >= 3 ? o + 1 : o];
            b[4 * i + 2] = image.Pixels[c >= 3 ? o + 2 : o];
            b[4 * i + 3] = c is 2 or 4 ? image.Pixels[o + c - 1] : (byte)255;
        }
        return (image.Width, image.Height, b);
    }

    private sealed class Tally
    {
        public int Intact, Altered, Rejected, Capped, Crashed;
        private readonly Stopwatch _time = new();
        private readonly SortedDictionary<string, int> _crashes = [];

        public void Count(Func<(int W, int H, byte[] Rgba)?> decode, (int W, int H, byte[] Rgba) original, Func<Exception, bool> ownError)
        {
            _time.Start();
            try
            {
                if (decode() is not { } got) Capped++;
                else if (got.W == original.W && got.H == original.H && got.Rgba.AsSpan().SequenceEqual(original.Rgba)) Intact++;
                else Altered++;
            }
            catch (Exception e) when (ownError(e)) { Rejected++; }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Crashed++;
                _crashes[e.GetType().Name] = _crashes.GetValueOrDefault(e.GetType().Name) + 1;
            }
            finally { _time.Stop(); }
        }

        public override string ToString() =>
            $"{Intact} intact, {Altered} silently altered, {Rejected} rejected with its error, {Capped} over the pixel cap, {Crashed} other exceptions"
            + (_crashes.Count > 0 ? $" ({string.Join(", ", _crashes.Select(c => $"{c.Key} {c.Value}"))})" : "") + $", {_time.Elapsed.TotalSeconds:F2} s";
    }
}
