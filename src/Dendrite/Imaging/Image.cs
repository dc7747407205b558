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
        int stride = Width * Channels;
        for (int y = 0; y < Height; y++) ImageRows.ToGrey(Pixels.AsSpan(y * stride, stride), Channels, g.AsSpan(y * Width, Width));
        return g;
    }

    /// <summary>Largest image file read: images are decoded row by row, so this bounds time, not memory.</summary>
    public const long MaxFileBytes = 1L << 30;

    /// <summary>Reads a PNG or PGM file, recognised by its first bytes, whole (up to <see cref="Png.MaxPixels"/> pixels).</summary>
    public static Image Load(string path)
    {
        using var fs = Data.InputFile.Open(path, "a PNG or PGM image", MaxFileBytes);
        using var rows = ImageRows.Open(fs, path);
        return ReadAll(rows);
    }

    internal static Image ReadAll(ImageRows rows)
    {
        int stride = rows.Width * rows.Channels;
        long total = (long)stride * rows.Height;
        // The buffer grows as rows arrive (doubling), so a header that promises more than the file holds costs
        // only what the file really decodes to, not what it claims.
        var px = new byte[Math.Min(total, Math.Max(stride, 1 << 20))];
        for (int y = 0; y < rows.Height; y++)
        {
            long end = (long)(y + 1) * stride;
            if (end > px.Length) Array.Resize(ref px, (int)Math.Min(total, Math.Max(end, 2L * px.Length)));
            rows.ReadRow(px.AsSpan(y * stride, stride));
        }
        return new Image(rows.Width, rows.Height, rows.Channels, px);
    }

    /// <summary>
    /// Reads a PNG or PGM file as grey levels 0..255 (alpha over white), one row at a time: an image larger than
    /// <paramref name="maxSide"/> on a side is area-averaged down, keeping its aspect ratio, as its rows arrive. Memory
    /// is a few rows plus the result, whatever the file's size.
    /// </summary>
    public static float[] ReadGrey(string path, int maxSide, out int width, out int height)
    {
        using var fs = Data.InputFile.Open(path, "a PNG or PGM image", MaxFileBytes);
        return ReadGrey(fs, path, maxSide, out width, out height);
    }

    /// <inheritdoc cref="ReadGrey(string, int, out int, out int)"/>
    public static float[] ReadGrey(Stream stream, string source, int maxSide, out int width, out int height)
    {
        using var rows = ImageRows.Open(stream, source);
        return ReadGrey(rows, maxSide, out width, out height);
    }

    /// <inheritdoc cref="ReadGrey(string, int, out int, out int)"/>
    public static float[] ReadGrey(ImageRows rows, int maxSide, out int width, out int height)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSide, 1);
        int w = rows.Width, h = rows.Height;
        if (w <= maxSide && h <= maxSide) (width, height) = (w, h);
        else
        {
            double scale = (double)maxSide / Math.Max(w, h);
            width = Math.Clamp((int)Math.Round(w * scale), 1, maxSide);
            height = Math.Clamp((int)Math.Round(h * scale), 1, maxSide);
        }
        return Scale(rows, width, height);
    }

    /// <summary>Reads a PNG or PGM file as grey levels, area-averaged (row by row) to exactly <paramref name="width"/>×<paramref name="height"/>.</summary>
    public static float[] ReadGreyResized(string path, int width, int height)
    {
        using var fs = Data.InputFile.Open(path, "a PNG or PGM image", MaxFileBytes);
        using var rows = ImageRows.Open(fs, path);
        return Scale(rows, width, height);
    }

    /// <summary>The image's rows as grey levels, area-averaged into <paramref name="width"/>×<paramref name="height"/> as they are decoded.</summary>
    private static float[] Scale(ImageRows rows, int width, int height)
    {
        var raw = new byte[rows.Width * rows.Channels];
        var grey = new float[rows.Width];
        if (width == rows.Width && height == rows.Height)
        {
            var same = new float[width * height];
            for (int y = 0; y < height; y++)
            {
                rows.ReadRow(raw);
                ImageRows.ToGrey(raw, rows.Channels, same.AsSpan(y * width, width));
            }
            return same;
        }
        var scaler = new AreaScaler(rows.Width, rows.Height, width, height);
        for (int y = 0; y < rows.Height; y++)
        {
            rows.ReadRow(raw);
            ImageRows.ToGrey(raw, rows.Channels, grey);
            scaler.AddRow(y, grey);
        }
        return scaler.Result();
    }
}

/// <summary>
/// Area-averaging resampling fed one source row at a time: each output pixel is the mean of the source pixels it
/// covers, weighted by the overlap. Same arithmetic, in the same order, as resampling the whole image at once
/// (<see cref="Digitizer"/>'s Resample), so the results are identical; memory is two doubles per output pixel.
/// </summary>
internal sealed class AreaScaler
{
    private readonly int _srcW, _srcH, _dstW, _dstH;
    private readonly double _fx, _fy;
    private readonly double[] _sum, _area;
    private readonly int[] _colStart, _colCount;  // per output column: its first source column and how many
    private readonly double[] _colWeight;         // their overlaps, output column after output column
    private readonly int[] _colOffset;
    private int _firstRow;                         // the first output row a source row can still reach

    public AreaScaler(int srcW, int srcH, int dstW, int dstH)
    {
        if (dstW <= 0 || dstH <= 0 || (long)dstW * dstH > 1 << 24) throw new ArgumentException($"Cannot resample to {dstW}×{dstH}.");
        (_srcW, _srcH, _dstW, _dstH) = (srcW, srcH, dstW, dstH);
        _fx = (double)srcW / dstW;
        _fy = (double)srcH / dstH;
        _sum = new double[dstW * dstH];
        _area = new double[dstW * dstH];
        _colStart = new int[dstW]; _colCount = new int[dstW]; _colOffset = new int[dstW];
        var weights = new List<double>();
        for (int x = 0; x < dstW; x++)
        {
            double xa = x * _fx, xb = (x + 1) * _fx;
            _colStart[x] = (int)xa;
            _colOffset[x] = weights.Count;
            for (int sx = (int)xa; sx < Math.Min(srcW, (int)Math.Ceiling(xb)); sx++) weights.Add(Math.Min(xb, sx + 1) - Math.Max(xa, sx));
            _colCount[x] = weights.Count - _colOffset[x];
        }
        _colWeight = weights.ToArray();
    }

    public void AddRow(int sy, ReadOnlySpan<float> row)
    {
        while (_firstRow < _dstH && Math.Min(_srcH, (int)Math.Ceiling((_firstRow + 1) * _fy)) <= sy) _firstRow++;
        for (int y = _firstRow; y < _dstH && (int)(y * _fy) <= sy; y++)
        {
            double ya = y * _fy, yb = (y + 1) * _fy;
            double wy = Math.Min(yb, sy + 1) - Math.Max(ya, sy);
            for (int x = 0; x < _dstW; x++)
            {
                double sum = _sum[y * _dstW + x], area = _area[y * _dstW + x];
                int o = _colOffset[x], s0 = _colStart[x];
                for (int k = 0; k < _colCount[x]; k++)
                {
                    double wx = _colWeight[o + k];
                    sum += wx * wy * row[s0 + k];
                    area += wx * wy;
                }
                _sum[y * _dstW + x] = sum;
                _area[y * _dstW + x] = area;
            }
        }
    }

    public float[] Result()
    {
        var dst = new float[_dstW * _dstH];
        for (int i = 0; i < dst.Length; i++) dst[i] = (float)(_area[i] > 0 ? _sum[i] / _area[i] : 0);
        return dst;
    }
}
