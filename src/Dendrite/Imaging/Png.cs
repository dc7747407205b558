using System.Buffers.Binary;
using System.IO.Compression;
using Dendrite.Data;

namespace Dendrite.Imaging;

/// <summary>
/// PNG reading and writing, with the runtime's zlib. Reads 8-bit grey, grey+alpha, RGB, RGBA and palette
/// images, non-interlaced (row by row, see <see cref="ImageRows"/>); writes 8-bit grey, RGB and RGBA. Every chunk
/// length and CRC is checked, sizes are bounded before anything is allocated, the inflater is asked for exactly the
/// bytes the header describes, and anything else gets an <see cref="InvalidDataFormatException"/>.
/// </summary>
public static class Png
{
    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>Largest image accepted: 2^26 pixels (8192×8192).</summary>
    public const long MaxPixels = 1L << 26;

    /// <summary>Longest side accepted, 65,536: the row buffers, made when the header is read, stay under a megabyte.</summary>
    public const int MaxSide = 1 << 16;

    public static bool IsPng(ReadOnlySpan<byte> data) => data.Length >= 8 && data[..8].SequenceEqual(Signature);

    public static Image Decode(byte[] data, string source = "image")
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!IsPng(data)) throw new InvalidDataFormatException($"{source}: not a PNG file (wrong signature).");
        using var rows = new PngRows(new MemoryStream(data, writable: false), source);
        return Image.ReadAll(rows);
    }

    /// <summary>Encodes an 8-bit grey (1 channel), RGB (3) or RGBA (4) image.</summary>
    public static byte[] Encode(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        byte colorType = image.Channels switch { 1 => 0, 3 => 2, 4 => 6, _ => throw new ArgumentException("PNG encoding takes 1, 3 or 4 channels.") };
        var ms = new MemoryStream();
        ms.Write(Signature);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), image.Height);
        ihdr[8] = 8; ihdr[9] = colorType;
        WriteChunk(ms, "IHDR", ihdr);
        int stride = image.Width * image.Channels;
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true))
        {
            var row = new byte[stride + 1];
            for (int y = 0; y < image.Height; y++)
            {
                // Sub filter: each byte minus the one a pixel to its left; compresses flat areas and plots well.
                row[0] = 1;
                var src = image.Pixels.AsSpan(y * stride, stride);
                for (int x = 0; x < stride; x++) row[x + 1] = (byte)(src[x] - (x >= image.Channels ? src[x - image.Channels] : 0));
                zs.Write(row);
            }
        }
        WriteChunk(ms, "IDAT", z.ToArray());
        WriteChunk(ms, "IEND", []);
        return ms.ToArray();
    }

    public static void Save(Image image, string path) => Serialization.AtomicFile.Write(path, s => s.Write(Encode(image)));

    private static void WriteChunk(Stream s, string type, ReadOnlySpan<byte> body)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, body.Length);
        System.Text.Encoding.ASCII.GetBytes(type, head[4..]);
        s.Write(head);
        s.Write(body);
        uint crc = Crc32.Append(Crc32.Append(0xFFFFFFFFu, head[4..]), body) ^ 0xFFFFFFFFu;
        Span<byte> c = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(c, crc);
        s.Write(c);
    }

    private static InvalidDataFormatException Bad(string source, string what) => new($"{source}: {what}.");
}

/// <summary>CRC-32 (ISO 3309, polynomial 0xEDB88320), as PNG and gzip use it; by table, eight bytes per step.</summary>
internal static class Crc32
{
    private static readonly Serialization.SlicingBy8 Table = new(0xEDB88320u);

    public static uint Append(uint crc, ReadOnlySpan<byte> data) => Table.Append(crc, data);

    public static uint Compute(ReadOnlySpan<byte> data) => Append(0xFFFFFFFFu, data) ^ 0xFFFFFFFFu;
}
