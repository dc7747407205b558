using System.Buffers.Binary;
using System.IO.Compression;
using Dendrite.Data;

namespace Dendrite.Imaging;

/// <summary>
/// PNG reading and writing, with the runtime's zlib. Reads 8-bit grey, grey+alpha, RGB, RGBA and palette
/// images, non-interlaced; writes 8-bit grey, RGB and RGBA. Every chunk length and CRC is checked, sizes are
/// bounded before anything is allocated, and anything else gets an <see cref="InvalidDataFormatException"/>.
/// </summary>
public static class Png
{
    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>Largest image accepted: 2^26 pixels (8192×8192).</summary>
    public const long MaxPixels = 1L << 26;

    public static bool IsPng(ReadOnlySpan<byte> data) => data.Length >= 8 && data[..8].SequenceEqual(Signature);

    public static Image Decode(byte[] data, string source = "image")
    {
        if (!IsPng(data)) throw Bad(source, "not a PNG file (wrong signature)");
        int pos = 8, width = 0, height = 0, depth = 0, colorType = -1, channels = 0;
        byte[]? palette = null;
        byte[]? paletteAlpha = null;
        var idat = new MemoryStream();
        bool sawHeader = false, sawEnd = false;
        while (pos < data.Length && !sawEnd)
        {
            if (data.Length - pos < 12) throw Bad(source, "truncated: a chunk header runs past the end of the file");
            uint len = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(pos));
            if (len > data.Length - pos - 12) throw Bad(source, $"truncated: a chunk claims {len} bytes but only {data.Length - pos - 12} remain");
            var type = data.AsSpan(pos + 4, 4);
            var body = data.AsSpan(pos + 8, (int)len);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(pos + 8 + (int)len));
            if (Crc32.Compute(data.AsSpan(pos + 4, 4 + (int)len)) != crc) throw Bad(source, $"chunk {System.Text.Encoding.ASCII.GetString(type)} fails its CRC check (corrupt file)");
            string name = System.Text.Encoding.ASCII.GetString(type);
            if (!sawHeader && name != "IHDR") throw Bad(source, "the first chunk is not IHDR");
            switch (name)
            {
                case "IHDR":
                    if (len != 13) throw Bad(source, "IHDR has the wrong length");
                    width = BinaryPrimitives.ReadInt32BigEndian(body);
                    height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                    depth = body[8]; colorType = body[9];
                    if (width <= 0 || height <= 0 || (long)width * height > MaxPixels) throw Bad(source, $"image size {(uint)width}×{(uint)height} is out of range");
                    if (body[10] != 0 || body[11] != 0) throw Bad(source, "unknown compression or filter method");
                    if (body[12] != 0) throw Bad(source, "interlaced PNGs are not supported; save the image without interlacing");
                    channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => throw Bad(source, $"colour type {colorType} is not a PNG colour type") };
                    if (depth != 8) throw Bad(source, $"{depth}-bit PNGs are not supported; only 8 bits per channel are");
                    sawHeader = true;
                    break;
                case "PLTE":
                    if (len % 3 != 0 || len == 0 || len > 768) throw Bad(source, "the palette has an invalid length");
                    palette = body.ToArray();
                    break;
                case "tRNS":
                    if (colorType == 3) paletteAlpha = body.ToArray();
                    break;
                case "IDAT":
                    idat.Write(body);
                    break;
                case "IEND":
                    sawEnd = true;
                    break;
            }
            pos += 12 + (int)len;
        }
        if (!sawHeader) throw Bad(source, "no IHDR chunk");
        if (idat.Length == 0) throw Bad(source, "no image data (IDAT)");
        if (colorType == 3 && palette is null) throw Bad(source, "a palette image without a palette");
        int stride = width * channels;
        long expected = (long)height * (stride + 1);
        var raw = new byte[expected];
        idat.Position = 0;
        try
        {
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            int got = 0;
            while (got < raw.Length)
            {
                int n = z.Read(raw, got, raw.Length - got);
                if (n == 0) break;
                got += n;
            }
            if (got < raw.Length) throw Bad(source, $"truncated image data: {got} of {raw.Length} bytes");
        }
        catch (InvalidDataException e) { throw Bad(source, $"the compressed image data is corrupt ({e.Message})"); }
        var pixels = Unfilter(raw, height, stride, channels, source);
        if (colorType == 3) return ExpandPalette(pixels, width, height, palette!, paletteAlpha, source);
        return new Image(width, height, channels, pixels);
    }

    private static byte[] Unfilter(byte[] raw, int height, int stride, int bpp, string source)
    {
        var outp = new byte[(long)height * stride];
        for (int y = 0; y < height; y++)
        {
            int filter = raw[(long)y * (stride + 1)];
            var line = raw.AsSpan((int)((long)y * (stride + 1) + 1), stride);
            var cur = outp.AsSpan(y * stride, stride);
            var prev = y > 0 ? outp.AsSpan((y - 1) * stride, stride) : Span<byte>.Empty;
            for (int x = 0; x < stride; x++)
            {
                int a = x >= bpp ? cur[x - bpp] : 0, b = y > 0 ? prev[x] : 0, c = x >= bpp && y > 0 ? prev[x - bpp] : 0;
                int v = filter switch
                {
                    0 => line[x],
                    1 => line[x] + a,
                    2 => line[x] + b,
                    3 => line[x] + ((a + b) >> 1),
                    4 => line[x] + Paeth(a, b, c),
                    _ => throw Bad(source, $"row {y} uses unknown filter type {filter}"),
                };
                cur[x] = (byte)v;
            }
        }
        return outp;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static Image ExpandPalette(byte[] idx, int w, int h, byte[] pal, byte[]? alpha, string source)
    {
        int ch = alpha is null ? 3 : 4;
        var p = new byte[(long)w * h * ch];
        for (int i = 0; i < idx.Length; i++)
        {
            int k = idx[i];
            if (k * 3 + 2 >= pal.Length) throw Bad(source, $"pixel {i} uses palette entry {k}, past the palette's end");
            p[i * ch] = pal[k * 3]; p[i * ch + 1] = pal[k * 3 + 1]; p[i * ch + 2] = pal[k * 3 + 2];
            if (ch == 4) p[i * ch + 3] = k < alpha!.Length ? alpha[k] : (byte)255;
        }
        return new Image(w, h, ch, p);
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

/// <summary>CRC-32 (ISO 3309, polynomial 0xEDB88320), as PNG and gzip use it.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }

    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    public static uint Compute(ReadOnlySpan<byte> data) => Append(0xFFFFFFFFu, data) ^ 0xFFFFFFFFu;
}
