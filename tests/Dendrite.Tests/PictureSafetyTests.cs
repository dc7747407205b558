using System.Buffers.Binary;
using System.IO.Compression;
using Dendrite.Data;
using Dendrite.Imaging;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using Image = Dendrite.Imaging.Image;

namespace Dendrite.Tests;

/// <summary>
/// Pictures from strangers: sizes over the caps are refused from the header, before any pixel is decoded; files cut
/// short, garbage and unsupported variants get our error naming the file and what was wrong, never ImageSharp's own
/// exception. The pictures are written by ImageSharp's encoders in-process and then damaged on purpose.
/// </summary>
public class PictureSafetyTests
{
    /// <summary>A 40×30 picture with a dark bar on white, in <paramref name="format"/>.</summary>
    internal static byte[] Small(string format)
    {
        using var img = new SixLabors.ImageSharp.Image<Rgba32>(40, 30);
        for (int y = 0; y < 30; y++)
            for (int x = 0; x < 40; x++) img[x, y] = x is > 15 and < 22 && y is > 4 and < 26 ? new Rgba32(10, 10, 10) : new Rgba32(250, 250, 250);
        IImageEncoder encoder = format switch
        {
            "jpeg" => new JpegEncoder { Quality = 90 },
            "bmp" => new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 },
            "gif" => new GifEncoder(),
            "webp" => new WebpEncoder { FileFormat = WebpFileFormatType.Lossy },
            _ => new WebpEncoder { FileFormat = WebpFileFormatType.Lossless },
        };
        var ms = new MemoryStream();
        img.Save(ms, encoder);
        return ms.ToArray();
    }

    /// <summary><paramref name="file"/> with its header claiming <paramref name="w"/>×<paramref name="h"/> pixels (the pixel data left as it was).</summary>
    internal static byte[] Claiming(string format, byte[] file, int w, int h)
    {
        var b = (byte[])file.Clone();
        switch (format)
        {
            case "jpeg":
                int sof = 2;
                while (!(b[sof] == 0xFF && b[sof + 1] is 0xC0 or 0xC1 or 0xC2)) sof += 2 + BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(sof + 2));
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(sof + 5), (ushort)h);
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(sof + 7), (ushort)w);
                break;
            case "bmp":
                BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(18), w);
                BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(22), h);
                break;
            case "gif":
                BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(6), (ushort)w);
                BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(8), (ushort)h);
                break;
            case "webp":   // VP8: 14-bit width and height after the key frame's start code
                Assert.Equal("VP8 "u8.ToArray(), b[12..16]);
                BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(26), (ushort)w);
                BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(28), (ushort)h);
                break;
            default: throw new ArgumentException(format);
        }
        return b;
    }

    public static TheoryData<string> Formats => ["jpeg", "bmp", "gif", "webp", "webp-lossless"];

    private static InvalidDataFormatException Refused(byte[] file, string name)
    {
        return Assert.Throws<InvalidDataFormatException>(() =>
        {
            using var rows = Pictures.Open(new MemoryStream(file), name);
            Digitizer.ToMnist(rows);
        });
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void EachFormatDecodesAndIsReadUpright(string format)
    {
        using var rows = Pictures.Open(new MemoryStream(Small(format)), format);
        Assert.Equal((40, 30, 4), (rows.Width, rows.Height, rows.Channels));
        var grey = Image.ReadGrey(rows, 64, out _, out _);
        Assert.True(grey[10 * 40 + 18] < 60 && grey[10 * 40 + 5] > 200, $"{format}: ink at (18, 10) is {grey[10 * 40 + 18]}, paper at (5, 10) is {grey[10 * 40 + 5]}");
    }

    /// <summary>A header over the caps (65,536 on a side or 2^26 pixels) is refused when the file is opened, naming the size; a size under them but over a caller's (the server's) is visible before any decoding.</summary>
    [Theory]
    [InlineData("jpeg")]
    [InlineData("bmp")]
    [InlineData("gif")]
    [InlineData("webp")]
    public void SizesOverTheCapsAreRefusedFromTheHeader(string format)
    {
        int side = format == "webp" ? 16383 : 65535;   // VP8 holds 14 bits; 16383² is still over 2^26 pixels
        var huge = Claiming(format, Small(format), side, side);
        var e = Assert.Throws<InvalidDataFormatException>(() => Pictures.Open(new MemoryStream(huge), "huge").Dispose());
        Assert.Contains($"{side}×{side} is out of range", e.Message);
        // 3000×3000: within the library's caps, so the header opens (no pixel decoded) and a caller can refuse it by its size.
        using var rows = Pictures.Open(new MemoryStream(Claiming(format, Small(format), 3000, 3000)), "large");
        Assert.Equal((3000, 3000), (rows.Width, rows.Height));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void FilesCutShortAreCalledTruncated(string format)
    {
        var whole = Small(format);
        foreach (double part in new[] { 0.3, 0.6, 0.9 })
        {
            var e = Refused(whole[..(int)(whole.Length * part)], "cut");
            Assert.True(e.Message.StartsWith("cut: ", StringComparison.Ordinal) && e.Message.Contains("truncated", StringComparison.Ordinal), $"{format} cut at {part}: {e.Message}");
        }
    }

    [Fact]
    public void GarbageAndUnsupportedVariantsGetOurError()
    {
        Assert.Contains("not a PNG, JPEG, BMP, GIF, WebP or PGM picture", Refused("hello, world, not a picture"u8.ToArray(), "text").Message);
        Assert.Contains("empty", Refused([], "empty").Message);
        // TIFF and TGA are ImageSharp formats Dendrite does not register: their bytes are never parsed.
        Assert.Contains("not a PNG, JPEG", Refused([0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "x.tif").Message);
        // A JPEG signature followed by noise; a WebP whose VP8 frame is not a key frame.
        var noise = new byte[600];
        new Random(5).NextBytes(noise);
        var e = Refused([0xFF, 0xD8, 0xFF, .. noise], "noise.jpg");
        Assert.StartsWith("noise.jpg: ", e.Message);
        Assert.IsNotAssignableFrom<InvalidDataFormatException>(e.InnerException);
        Assert.Contains("WebP", Refused([.. "RIFF"u8, 16, 0, 0, 0, .. "WEBPVP8 "u8, 4, 0, 0, 0, 1, 2, 3, 4], "bad.webp").Message);
    }

    /// <summary>The pictures the fuzz tests found (tests/corpus), and a WebP chunk that claims 2 GiB: each is our error, and the lying lengths are caught before anything is allocated for them.</summary>
    [Fact]
    public void FilesTheFuzzFoundGetOurError()
    {
        string Message(byte[] file, string name, long maxAllocated)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Refused(file, name);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < maxAllocated, $"{name}: {allocated:N0} bytes allocated");
            return e.Message;
        }
        Assert.Contains("compressed image data is corrupt (zlib", Message(Corpus.Read("png-zlib-preset-dictionary.png"), "dict.png", 1 << 20));
        Assert.Contains("the BMP file is truncated: its pixel data would start at byte 620,758,070", Message(Corpus.Read("bmp-offset-past-end.bmp"), "offset.bmp", 1 << 20));
        byte[] exif = [.. "RIFF"u8, 46, 0, 0, 0, .. "WEBPVP8X"u8, 10, 0, 0, 0, 0x08, 0, 0, 0, 25, 0, 0, 18, 0, 0, .. "EXIF"u8, 0xF0, 0xFF, 0xFF, 0x7F, .. new byte[16]];
        Assert.Contains("the WebP file is truncated: its EXIF chunk counts 2,147,483,632 bytes, 16 remain", Message(exif, "exif.webp", 1 << 20));
        // ImageSharp's lossless decoder still sizes its tables by the groups the picture names (540 MB here): not bounded by us, only serialised.
        Assert.StartsWith("tables.webp: the WebP file is corrupt", Message(Corpus.Read("webp-lossless-huge-huffman-tables.webp"), "tables.webp", long.MaxValue));
    }

    /// <summary>PNG stays on Dendrite's decoder; the zlib stream is read to its end, so the Adler-32 trailer is checked even where the CRCs were recomputed over changed data.</summary>
    [Fact]
    public void PngImageDataIsCheckedByItsAdler32Too()
    {
        var grey = new byte[8 * 4 * 3];
        for (int i = 0; i < grey.Length; i++) grey[i] = (byte)(i * 9);
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.NoCompression, leaveOpen: true))   // stored blocks: a changed byte still inflates
            for (int y = 0; y < 4; y++) { zs.WriteByte(0); zs.Write(grey.AsSpan(y * 24, 24)); }
        var data = z.ToArray();
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, 8);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), 4);
        ihdr[8] = 8; ihdr[9] = 2;
        // The Adler-32 trailer in an IDAT chunk of its own: the inflater sees it only if it is asked for more than the rows.
        byte[] Png(byte[] idat) => [137, 80, 78, 71, 13, 10, 26, 10, .. FuzzTests.Chunk("IHDR", ihdr), .. FuzzTests.Chunk("IDAT", idat[..^4]),
            .. FuzzTests.Chunk("IDAT", idat[^4..]), .. FuzzTests.Chunk("IEND", [])];
        Assert.Equal(grey, Dendrite.Imaging.Png.Decode(Png(data)).Pixels);
        var changed = (byte[])data.Clone();
        changed[20] ^= 0x40;   // a pixel byte inside the stored block; the chunk's CRC is computed over the changed data
        var e = Assert.Throws<InvalidDataFormatException>(() => Dendrite.Imaging.Png.Decode(Png(changed), "changed.png"));
        Assert.Contains("compressed image data is corrupt", e.Message);
    }
}
