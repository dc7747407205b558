namespace Dendrite.Imaging;

/// <summary>
/// Brings a picture of a handwritten digit to MNIST's form, the way MNIST was made: grey levels; inverted when the
/// background is light (MNIST is white ink on black); cropped to the ink; scaled, keeping the aspect ratio, to fit
/// a 20×20 box (with area averaging, which anti-aliases as MNIST's normalisation did); then placed in a 28×28
/// field so that its centre of mass sits at the centre. Values are 0..255, as in the MNIST files.
/// </summary>
public static class Digitizer
{
    public const int Size = 28, Box = 20;

    /// <summary>Pictures larger than this on a side are area-averaged down to it as they are decoded, before digitizing: the digit ends in a 20×20 box, and memory stays a few megabytes whatever the picture's size.</summary>
    public const int MaxInputSide = 1024;

    /// <summary>
    /// The model input for a PNG or PGM picture of a digit, read row by row (pictures larger than <see cref="MaxInputSide"/>
    /// are area-averaged down as they arrive) and brought to MNIST's form: the one path used by <c>dendrite predict</c>
    /// and by <c>dendrite serve</c>, so both give the same answer for the same picture.
    /// </summary>
    public static float[] ToMnist(ImageRows rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var grey = Image.ReadGrey(rows, MaxInputSide, out int w, out int h);
        return Digitize(grey, w, h, rows.Source);
    }

    public static float[] ToMnist(Image image, string source = "image")
    {
        ArgumentNullException.ThrowIfNull(image);
        return Digitize(image.ToGrey(), image.Width, image.Height, source);
    }

    /// <summary>The same from grey levels 0..255 (<paramref name="width"/>×<paramref name="height"/>, row-major), as <see cref="Image.ReadGrey(string, int, out int, out int)"/> gives them.</summary>
    public static float[] ToMnist(ReadOnlySpan<float> grey, int width, int height, string source = "image")
    {
        if (width <= 0 || height <= 0 || grey.Length != (long)width * height) throw new ArgumentException($"{width}×{height} grey levels need {(long)width * height} values; received {grey.Length}.", nameof(grey));
        return Digitize(grey.ToArray(), width, height, source);
    }

    private static float[] Digitize(float[] g, int w, int h, string source)
    {
        // Background: the mean of the border pixels. A light border means dark ink on paper: invert.
        double border = 0; int count = 0;
        for (int x = 0; x < w; x++) { border += g[x] + g[(h - 1) * w + x]; count += 2; }
        for (int y = 0; y < h; y++) { border += g[y * w] + g[y * w + w - 1]; count += 2; }
        if (border / count > 127) for (int i = 0; i < g.Length; i++) g[i] = 255 - g[i];
        // Ink: pixels clearly brighter than the background.
        float bg = Percentile(g, 0.5f), peak = g.Max();
        if (peak - bg < 32) throw new Data.InvalidDataFormatException($"{source}: no digit found (the image is blank or has too little contrast).");
        float threshold = bg + (peak - bg) * 0.25f;
        int x0 = w, x1 = -1, y0 = h, y1 = -1;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (g[y * w + x] > threshold) { x0 = Math.Min(x0, x); x1 = Math.Max(x1, x); y0 = Math.Min(y0, y); y1 = Math.Max(y1, y); }
        for (int i = 0; i < g.Length; i++) g[i] = Math.Max(0, g[i] - bg) * 255f / (peak - bg);
        int bw = x1 - x0 + 1, bh = y1 - y0 + 1;
        double scale = (double)Box / Math.Max(bw, bh);
        int sw = Math.Max(1, (int)Math.Round(bw * scale)), sh = Math.Max(1, (int)Math.Round(bh * scale));
        var small = Resample(g, w, x0, y0, bw, bh, sw, sh);
        // Centre of mass to pixel (14, 14) of the 28×28 field, counting pixels from 0, as MNIST's digits sit.
        double mass = 0, cx = 0, cy = 0;
        for (int y = 0; y < sh; y++)
            for (int x = 0; x < sw; x++) { float v = small[y * sw + x]; mass += v; cx += v * (x + 0.5); cy += v * (y + 0.5); }
        int ox = (int)Math.Round(Size / 2.0 + 0.5 - cx / mass), oy = (int)Math.Round(Size / 2.0 + 0.5 - cy / mass);
        var result = new float[Size * Size];
        for (int y = 0; y < sh; y++)
            for (int x = 0; x < sw; x++)
            {
                int tx = x + ox, ty = y + oy;
                if ((uint)tx < Size && (uint)ty < Size) result[ty * Size + tx] = Math.Clamp(small[y * sw + x], 0, 255);
            }
        return result;
    }

    /// <summary>The value at index ⌊q·(n−1)⌋ of <paramref name="v"/> sorted, found by selection (expected linear time) rather than a full sort.</summary>
    internal static float Percentile(float[] v, float q)
    {
        var a = (float[])v.Clone();
        int k = (int)(q * (a.Length - 1)), lo = 0, hi = a.Length - 1;
        while (lo < hi)
        {
            // Hoare partition around the median of three; afterwards a[lo..j] ≤ pivot ≤ a[i..hi].
            float x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi];
            float pivot = Math.Max(Math.Min(x, y), Math.Min(Math.Max(x, y), z));
            int i = lo, j = hi;
            while (i <= j)
            {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) { (a[i], a[j]) = (a[j], a[i]); i++; j--; }
            }
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return a[k];
        }
        return a[k];
    }

    /// <summary>Area-averaging resample of the box (x0, y0, bw, bh) of <paramref name="src"/> (row length w) to sw×sh.</summary>
    internal static float[] Resample(float[] src, int w, int x0, int y0, int bw, int bh, int sw, int sh)
    {
        var dst = new float[sw * sh];
        double fx = (double)bw / sw, fy = (double)bh / sh;
        for (int y = 0; y < sh; y++)
        {
            double ya = y * fy, yb = (y + 1) * fy;
            for (int x = 0; x < sw; x++)
            {
                double xa = x * fx, xb = (x + 1) * fx, sum = 0, area = 0;
                for (int sy = (int)ya; sy < Math.Min(bh, (int)Math.Ceiling(yb)); sy++)
                {
                    double wy = Math.Min(yb, sy + 1) - Math.Max(ya, sy);
                    for (int sx = (int)xa; sx < Math.Min(bw, (int)Math.Ceiling(xb)); sx++)
                    {
                        double wx = Math.Min(xb, sx + 1) - Math.Max(xa, sx);
                        sum += wx * wy * src[(y0 + sy) * w + x0 + sx];
                        area += wx * wy;
                    }
                }
                dst[y * sw + x] = (float)(area > 0 ? sum / area : 0);
            }
        }
        return dst;
    }
}
