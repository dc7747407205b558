namespace Dendrite.Imaging;

/// <summary>An 8-bit image: <see cref="Channels"/> bytes per pixel (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA), rows top to bottom.</summary>
public sealed class Image
{
    public Image(int width, int height, int channels, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"Image size {width}×{height} is not positive.");
        if (channels is < 1 or > 4) throw new ArgumentException($"Images have 1 to 4 channels; received {channels}.");
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != (long)width * height * channels) throw new ArgumentException($"A {width}×{height}×{channels} image needs {(long)width * height * channels} bytes; received {pixels.Length}.");
        Width = width; Height = height; Channels = channels; Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }
    public byte[] Pixels { get; }

    /// <summary>A grey image from values 0..255 (clamped and rounded).</summary>
    public static Image FromGrey(int width, int height, ReadOnlySpan<float> values)
    {
        var p = new byte[width * height];
        for (int i = 0; i < p.Length; i++) p[i] = (byte)Math.Clamp(MathF.Round(values[i]), 0, 255);
        return new Image(width, height, 1, p);
    }

    /// <summary>Luminance 0..255 per pixel (Rec. 601 weights), with any alpha composited over white.</summary>
    public float[] ToGrey()
    {
        var g = new float[Width * Height];
        for (int i = 0; i < g.Length; i++)
        {
            int o = i * Channels;
            float lum = Channels >= 3 ? 0.299f * Pixels[o] + 0.587f * Pixels[o + 1] + 0.114f * Pixels[o + 2] : Pixels[o];
            if (Channels is 2 or 4)
            {
                float a = Pixels[o + Channels - 1] / 255f;
                lum = a * lum + (1 - a) * 255f;
            }
            g[i] = lum;
        }
        return g;
    }

    /// <summary>Reads a PNG or PGM file, recognised by its first bytes.</summary>
    public static Image Load(string path)
    {
        Serialization.InputFile.Check(path, "image");
        var bytes = File.ReadAllBytes(path);
        if (Png.IsPng(bytes)) return Png.Decode(bytes, path);
        if (Pgm.IsPgm(bytes)) return Pgm.Decode(bytes, path);
        throw new Data.InvalidDataFormatException($"{path}: not a PNG or PGM image (unrecognised first bytes).");
    }
}
