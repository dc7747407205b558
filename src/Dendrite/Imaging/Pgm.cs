using System.Globalization;
using Dendrite.Data;

namespace Dendrite.Imaging;

/// <summary>Netpbm greymaps: binary (P5) and plain-text (P2), any maxval up to 65535, scaled to 0..255.</summary>
public static class Pgm
{
    public static bool IsPgm(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 'P' && (data[1] == '5' || data[1] == '2');

    public static Image Decode(byte[] data, string source = "image")
    {
        if (!IsPgm(data)) throw Bad(source, "not a PGM file (expected P5 or P2)");
        bool binary = data[1] == '5';
        int pos = 2;
        int width = Token(), height = Token(), maxval = Token();
        if (width <= 0 || height <= 0 || (long)width * height > Png.MaxPixels) throw Bad(source, $"image size {width}×{height} is out of range");
        if (maxval is < 1 or > 65535) throw Bad(source, $"maxval {maxval} is out of range");
        var px = new byte[width * height];
        if (binary)
        {
            pos++; // the single whitespace after maxval
            int bytesPer = maxval < 256 ? 1 : 2;
            if (data.Length - pos < (long)px.Length * bytesPer) throw Bad(source, $"truncated: {px.Length * bytesPer} bytes of pixels expected, {Math.Max(0, data.Length - pos)} present");
            for (int i = 0; i < px.Length; i++)
            {
                int v = bytesPer == 1 ? data[pos + i] : data[pos + 2 * i] << 8 | data[pos + 2 * i + 1];
                px[i] = Scale(v, maxval, source);
            }
        }
        else for (int i = 0; i < px.Length; i++) px[i] = Scale(Token(), maxval, source);
        return new Image(width, height, 1, px);

        int Token()
        {
            while (pos < data.Length)
            {
                if (data[pos] == '#') { while (pos < data.Length && data[pos] != '\n') pos++; }
                else if (char.IsWhiteSpace((char)data[pos])) pos++;
                else break;
            }
            int start = pos;
            while (pos < data.Length && data[pos] >= '0' && data[pos] <= '9' && pos - start < 9) pos++;
            if (pos == start) throw Bad(source, "truncated or malformed header or pixel values");
            return int.Parse(data.AsSpan(start, pos - start), NumberStyles.None, CultureInfo.InvariantCulture);
        }
    }

    private static byte Scale(int v, int maxval, string source)
    {
        if (v > maxval) throw Bad(source, $"pixel value {v} exceeds maxval {maxval}");
        return (byte)((v * 255 + maxval / 2) / maxval);
    }

    private static InvalidDataFormatException Bad(string source, string what) => new($"{source}: {what}.");
}
