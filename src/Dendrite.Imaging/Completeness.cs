using System.Buffers.Binary;

namespace Dendrite.Imaging;

/// <summary>
/// Whether a picture's bytes are all there, read from the file's own structure before its pixels are decoded.
/// ImageSharp's decoders are lenient: a JPEG, BMP, GIF or WebP cut short (an upload that stopped halfway) decodes to a
/// picture whose missing part is blank, and the network would answer for half a digit. And some of its header readers
/// allocate what a length field says before comparing it with the file (a BMP's pixel-data offset, a WebP chunk's
/// size: a 100-byte file can ask for 2 GiB). Each check walks only the format's framing (segment lengths, block sizes,
/// chunk sizes), in constant memory; what it cannot judge it leaves to the decoder.
/// </summary>
internal static class Completeness
{
    /// <summary>
    /// What is missing from the picture at <paramref name="s"/>'s position, or null when it is whole (or not this check's
    /// to judge). Without <paramref name="pixels"/>, only what holds whatever the picture's size (run before the header
    /// is parsed); with it, a BMP's rows too (run once the size has passed the caller's limits). The position is kept.
    /// </summary>
    public static string? Missing(Stream s, string format, bool pixels = true)
    {
        long start = s.Position, size = s.Length - start;
        try
        {
            return format switch
            {
                "JPEG" => Jpeg(s),
                "BMP" => Bmp(s, size, pixels),
                "GIF" => Gif(s),
                "WebP" => Webp(s, size),
                _ => null,
            };
        }
        finally { s.Position = start; }
    }

    /// <summary>JPEG: the marker segments up to the first scan must fit in the file, and an end-of-image marker (FF D9) must follow the scan.</summary>
    private static string? Jpeg(Stream s)
    {
        if (s.ReadByte() != 0xFF || s.ReadByte() != 0xD8) return null;
        while (true)
        {
            int b = s.ReadByte();
            if (b < 0) return "it ends before the image data";
            if (b != 0xFF) return null;   // not a marker: the decoder's to judge
            int m;
            do m = s.ReadByte(); while (m == 0xFF);
            if (m < 0) return "it ends before the image data";
            if (m is 0x01 or (>= 0xD0 and <= 0xD8)) continue;   // markers without a length
            if (m == 0xD9) return null;
            int hi = s.ReadByte(), lo = s.ReadByte();
            if (lo < 0) return "it ends inside a marker segment";
            int length = hi << 8 | lo;
            if (length < 2) return null;
            if (s.Position + length - 2 > s.Length) return $"a marker segment of {length:N0} bytes runs past the end of the file";
            s.Seek(length - 2, SeekOrigin.Current);
            if (m == 0xDA) break;
        }
        // Entropy-coded data never holds FF D9 (an FF in it is followed by 00 or a restart marker), so the first FF D9 after the scan header ends the image.
        var buffer = new byte[65536];
        bool ff = false;
        int n;
        while ((n = s.Read(buffer)) > 0)
            for (int i = 0; i < n; i++)
            {
                if (ff && buffer[i] == 0xD9) return null;
                ff = buffer[i] == 0xFF;
            }
        return "it ends before the end-of-image marker; the image data is cut off";
    }

    /// <summary>BMP: the pixel rows (uncompressed) or the declared image size (compressed) must fit after the pixel-data offset.</summary>
    private static string? Bmp(Stream s, long size, bool pixels)
    {
        Span<byte> h = stackalloc byte[34];
        if (s.ReadAtLeast(h, h.Length, throwOnEndOfStream: false) < h.Length) return "it ends inside the header";
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(h[10..]);
        if (offset > size) return $"its pixel data would start at byte {offset:N0}, the file has {size:N0}";
        if (!pixels) return null;
        uint infoSize = BinaryPrimitives.ReadUInt32LittleEndian(h[14..]);
        long width, height;
        int bitsPerPixel;
        uint compression = 0, imageSize = 0;
        if (infoSize == 12)
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(h[18..]); height = BinaryPrimitives.ReadInt16LittleEndian(h[20..]); bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(h[24..]);
        }
        else
        {
            if (infoSize < 40) return null;
            Span<byte> more = stackalloc byte[4];
            if (s.ReadAtLeast(more, 4, throwOnEndOfStream: false) < 4) return "it ends inside the header";
            width = BinaryPrimitives.ReadInt32LittleEndian(h[18..]); height = BinaryPrimitives.ReadInt32LittleEndian(h[22..]); bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(h[28..]);
            compression = BinaryPrimitives.ReadUInt32LittleEndian(h[30..]); imageSize = BinaryPrimitives.ReadUInt32LittleEndian(more);
        }
        // BI_RGB, BI_BITFIELDS and BI_ALPHABITFIELDS store rows padded to 4 bytes; the others say their size.
        long need = compression is 0 or 3 or 6 ? offset + (bitsPerPixel * Math.Abs(width) + 31) / 32 * 4 * Math.Abs(height) : imageSize > 0 ? offset + imageSize : 0;
        return need > size ? $"its pixels need {need:N0} bytes, the file has {size:N0}" : null;
    }

    /// <summary>GIF: the blocks up to and including the first frame's image data must be whole.</summary>
    private static string? Gif(Stream s)
    {
        Span<byte> head = stackalloc byte[13];
        if (s.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) < head.Length) return "it ends inside the header";
        if ((head[10] & 0x80) != 0 && !Skip(s, 3L << ((head[10] & 7) + 1))) return "it ends inside the colour table";
        Span<byte> d = stackalloc byte[9];
        while (true)
        {
            switch (s.ReadByte())
            {
                case < 0: return "it ends before the first frame";
                case 0x21:
                    if (s.ReadByte() < 0 || !SkipSubBlocks(s)) return "it ends inside an extension block";
                    break;
                case 0x2C:
                    if (s.ReadAtLeast(d, d.Length, throwOnEndOfStream: false) < d.Length) return "it ends inside the first frame's descriptor";
                    if ((d[8] & 0x80) != 0 && !Skip(s, 3L << ((d[8] & 7) + 1))) return "it ends inside the first frame's colour table";
                    return s.ReadByte() >= 0 && SkipSubBlocks(s) ? null : "the first frame's image data is cut off";
                default: return null;   // the trailer or a stray byte: the decoder's to judge
            }
        }
    }

    /// <summary>WebP: the file must hold the bytes its RIFF header counts, and each chunk inside the bytes its own header counts.</summary>
    private static string? Webp(Stream s, long size)
    {
        long start = s.Position;
        Span<byte> head = stackalloc byte[12];
        if (s.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) < head.Length) return "it ends inside the header";
        long declared = 8L + BinaryPrimitives.ReadUInt32LittleEndian(head[4..]);
        if (declared > size) return $"its RIFF header counts {declared:N0} bytes, the file has {size:N0}";
        long end = start + declared;
        Span<byte> chunk = stackalloc byte[8];
        while (end - s.Position >= 8)
        {
            s.ReadExactly(chunk);
            long length = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]), left = end - s.Position;
            if (length > left)
                return $"its {string.Concat(chunk[..4].ToArray().Select(b => b is >= 0x20 and < 0x7F ? (char)b : '?'))} chunk counts {length:N0} bytes, {left:N0} remain";
            s.Seek(length + (length & 1), SeekOrigin.Current);
        }
        return null;
    }

    private static bool Skip(Stream s, long count)
    {
        if (s.Position + count > s.Length) return false;
        s.Seek(count, SeekOrigin.Current);
        return true;
    }

    /// <summary>Skips GIF data sub-blocks (a length byte, that many bytes) through the zero-length terminator; false when the file ends first.</summary>
    private static bool SkipSubBlocks(Stream s)
    {
        while (true)
        {
            int n = s.ReadByte();
            if (n < 0) return false;
            if (n == 0) return true;
            if (!Skip(s, n)) return false;
        }
    }
}
