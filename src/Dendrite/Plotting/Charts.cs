using System.Globalization;
using Dendrite.Imaging;
using Dendrite.Metrics;

namespace Dendrite.Plotting;

/// <summary>Something that draws itself on a canvas of its own size, to SVG or PNG.</summary>
public interface IChart
{
    int Width { get; }
    int Height { get; }
    void Draw(Canvas canvas);
}

public static class ChartExtensions
{
    public static string ToSvg(this IChart chart)
    {
        var c = new SvgCanvas(chart.Width, chart.Height);
        chart.Draw(c);
        return c.ToString();
    }

    public static Image ToImage(this IChart chart)
    {
        var c = new RasterCanvas(chart.Width, chart.Height);
        chart.Draw(c);
        return c.ToImage();
    }

    /// <summary>Writes <paramref name="pathWithoutExtension"/>.svg and .png, each atomically.</summary>
    public static void Save(this IChart chart, string pathWithoutExtension)
    {
        Serialization.AtomicFile.Write(pathWithoutExtension + ".svg", s => s.Write(System.Text.Encoding.UTF8.GetBytes(chart.ToSvg())));
        Png.Save(chart.ToImage(), pathWithoutExtension + ".png");
    }
}

/// <summary>One line of a chart. A faint series is drawn thin and translucent, behind the others (raw per-iteration values).</summary>
public sealed record Series(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, Color Color, bool Faint = false);

/// <summary>A line chart with a title, axis titles, ticks, a grid and a legend.</summary>
public sealed class LineChart(string title, string xLabel, string yLabel) : IChart
{
    public string Title { get; } = title;
    public string XLabel { get; } = xLabel;
    public string YLabel { get; } = yLabel;
    public List<Series> Series { get; } = [];
    public double? YMin { get; set; }
    public double? YMax { get; set; }
    /// <summary>Put the legend at the bottom right (for curves that rise to the top, such as accuracy).</summary>
    public bool LegendBottom { get; set; }
    /// <summary>Tick the x axis at whole numbers only (epochs).</summary>
    public bool IntegerX { get; set; }
    public int Width { get; set; } = 800;
    public int Height { get; set; } = 420;

    public void Draw(Canvas c)
    {
        const double left = 72, right = 20, top = 40, bottom = 56;
        double pw = Width - left - right, ph = Height - top - bottom;
        var all = Series.Where(s => s.X.Count > 0).ToList();
        double x0 = all.Count == 0 ? 0 : all.Min(s => s.X.Min()), x1 = all.Count == 0 ? 1 : all.Max(s => s.X.Max());
        var ys = all.SelectMany(s => s.Y).Where(double.IsFinite).ToList();
        double y0 = YMin ?? (ys.Count == 0 ? 0 : ys.Min()), y1 = YMax ?? (ys.Count == 0 ? 1 : ys.Max());
        if (x1 <= x0) x1 = x0 + 1;
        if (y1 <= y0) { y1 = y0 + 1; }
        var yTicks = Ticks(y0, y1, 6);
        if (YMin is null) y0 = Math.Min(y0, yTicks[0]);
        if (YMax is null) y1 = Math.Max(y1, yTicks[^1]);
        yTicks = yTicks.Where(t => t >= y0 - 1e-12 && t <= y1 + 1e-12).ToList();
        var xTicks = Ticks(x0, x1, 8).Where(t => t >= x0 - 1e-12 && t <= x1 + 1e-12 && (!IntegerX || t == Math.Round(t))).ToList();
        double X(double v) => left + (v - x0) / (x1 - x0) * pw;
        double Y(double v) => top + ph - (Math.Clamp(v, y0, y1) - y0) / (y1 - y0) * ph;

        c.Text(left, 24, Title, Color.Black);
        foreach (var t in yTicks)
        {
            c.Line(left, Y(t), left + pw, Y(t), Color.LightGrey);
            c.Text(left - 8, Y(t) + 4, Format(t), Color.Grey, Anchor.End);
        }
        foreach (var t in xTicks)
        {
            c.Line(X(t), top, X(t), top + ph, Color.LightGrey);
            c.Text(X(t), top + ph + 18, Format(t), Color.Grey, Anchor.Middle);
        }
        c.Line(left, top + ph, left + pw, top + ph, Color.Grey);
        c.Line(left, top, left, top + ph, Color.Grey);
        c.Text(left + pw / 2, Height - 12, XLabel, Color.Black, Anchor.Middle);
        c.Text(18, top + ph / 2, YLabel, Color.Black, Anchor.Middle, vertical: true);
        foreach (var s in all.Where(s => s.Faint).Concat(all.Where(s => !s.Faint)))
        {
            var pts = new List<(double, double)>(s.X.Count);
            for (int i = 0; i < s.X.Count; i++) if (double.IsFinite(s.Y[i])) pts.Add((X(s.X[i]), Y(s.Y[i])));
            if (pts.Count == 1) c.Rect(pts[0].Item1 - 2, pts[0].Item2 - 2, 4, 4, s.Color);
            c.Polyline(pts, s.Faint ? s.Color.WithAlpha(90) : s.Color, s.Faint ? 1 : 2.2);
        }
        // Legend, top right inside the plot.
        var named = all.Where(s => s.Name.Length > 0).ToList();
        if (named.Count == 0) return;
        double lw = named.Max(s => Canvas.TextWidth(s.Name)) + 44, lh = named.Count * 20 + 8;
        double lx = left + pw - lw - 8, ly = LegendBottom ? top + ph - lh - 8 : top + 8;
        c.Rect(lx, ly, lw, lh, Color.White.WithAlpha(230));
        for (int i = 0; i < named.Count; i++)
        {
            double yy = ly + 16 + i * 20;
            c.Line(lx + 8, yy - 4, lx + 30, yy - 4, named[i].Faint ? named[i].Color.WithAlpha(120) : named[i].Color, 2.5);
            c.Text(lx + 36, yy, named[i].Name, Color.Black);
        }
    }

    /// <summary>Tick positions at 1, 2 or 5 × 10^k covering [lo, hi] in about <paramref name="count"/> steps.</summary>
    internal static List<double> Ticks(double lo, double hi, int count)
    {
        double raw = (hi - lo) / Math.Max(1, count), mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 2.5, 5, 10 }.Select(m => m * mag).First(s => s >= raw);
        var ticks = new List<double>();
        for (double t = Math.Floor(lo / step) * step; t <= hi + step * 0.999; t += step) ticks.Add(Math.Round(t / step) * step);
        return ticks;
    }

    internal static string Format(double v) =>
        Math.Abs(v) >= 10000 ? v.ToString("N0", CultureInfo.InvariantCulture)
        : Math.Abs(v) >= 100 || v == Math.Round(v) ? v.ToString("0", CultureInfo.InvariantCulture)
        : v.ToString("0.###", CultureInfo.InvariantCulture);
}

/// <summary>A confusion matrix as a heatmap: rows true class, columns predicted, shaded by the row's fraction, with counts.</summary>
public sealed class ConfusionChart(ConfusionMatrix matrix, string title = "Confusion matrix (test set)") : IChart
{
    private const int Cell = 46;
    private readonly double _labelWidth = matrix.ClassNames.Max(n => Canvas.TextWidth(n)) + 12;

    public int Width => (int)(_labelWidth + 40 + Cell * matrix.Classes + 20);
    public int Height => (int)(60 + Cell * matrix.Classes + _labelWidth + 30);

    public void Draw(Canvas c)
    {
        int n = matrix.Classes;
        double left = _labelWidth + 40, top = 60;
        var light = Color.Rgb(0xf7fbff); var dark = Color.Rgb(0x08306b);
        c.Text(16, 24, title, Color.Black);
        for (int i = 0; i < n; i++)
        {
            long support = matrix.Support(i);
            for (int j = 0; j < n; j++)
            {
                long v = matrix.Counts[i, j];
                double frac = support == 0 ? 0 : (double)v / support;
                var fill = Color.Lerp(light, dark, Math.Sqrt(frac));
                c.Rect(left + j * Cell, top + i * Cell, Cell - 1, Cell - 1, fill);
                if (v > 0) c.Text(left + j * Cell + Cell / 2.0, top + i * Cell + Cell / 2.0 + 5, v.ToString(CultureInfo.InvariantCulture), frac > 0.35 ? Color.White : Color.Black, Anchor.Middle);
            }
            c.Text(left - 8, top + i * Cell + Cell / 2.0 + 5, matrix.ClassNames[i], Color.Black, Anchor.End);
            c.Text(left + i * Cell + Cell / 2.0 + 5, top + n * Cell + 8, matrix.ClassNames[i], Color.Black, Anchor.End, vertical: true);
        }
        c.Text(16, top + n * Cell / 2.0, "True class", Color.Black, Anchor.Middle, vertical: true);
        c.Text(left + n * Cell / 2.0, Height - 10, "Predicted class", Color.Black, Anchor.Middle);
    }
}

/// <summary>A grid of small images, each with up to two caption lines.</summary>
public sealed class ImageGrid(string title, IReadOnlyList<(Image Image, string Caption, string Detail)> items, int columns = 8, int scale = 3) : IChart
{
    private int Tile => 28 * scale;
    private int CellW => Math.Max(Tile, (int)items.Select(i => Math.Max(Canvas.TextWidth(i.Caption), Canvas.TextWidth(i.Detail))).DefaultIfEmpty(0).Max()) + 14;
    private int CellH => Tile + 44;
    private int Rows => (items.Count + columns - 1) / columns;
    public int Width => Math.Max(400, columns * CellW + 20);
    public int Height => 44 + Math.Max(1, Rows) * CellH + 10;

    public void Draw(Canvas c)
    {
        c.Text(10, 24, title, Color.Black);
        for (int k = 0; k < items.Count; k++)
        {
            double x = 10 + k % columns * CellW, y = 40 + k / columns * CellH;
            double ix = x + (CellW - Tile) / 2.0;
            c.Picture(ix, y, Tile, Tile, items[k].Image);
            c.Text(x + CellW / 2.0, y + Tile + 16, items[k].Caption, Color.Black, Anchor.Middle);
            c.Text(x + CellW / 2.0, y + Tile + 32, items[k].Detail, Color.Grey, Anchor.Middle);
        }
        if (items.Count == 0) c.Text(10, 60, "(none)", Color.Grey);
    }
}

public static class Colormaps
{
    /// <summary>Blue for negative, white for zero, red for positive, scaled by the largest magnitude.</summary>
    public static Image Diverging(ReadOnlySpan<float> values, int width, int height)
    {
        float max = 1e-12f;
        foreach (var v in values) max = Math.Max(max, Math.Abs(v));
        var px = new byte[width * height * 3];
        var neg = Color.Rgb(0x2166ac); var pos = Color.Rgb(0xb2182b);
        for (int i = 0; i < width * height; i++)
        {
            double t = values[i] / max;
            var col = t < 0 ? Color.Lerp(Color.White, neg, -t) : Color.Lerp(Color.White, pos, t);
            px[i * 3] = col.R; px[i * 3 + 1] = col.G; px[i * 3 + 2] = col.B;
        }
        return new Image(width, height, 3, px);
    }

    /// <summary>An MNIST-style image (0..255, white ink on black) shown as dark ink on white.</summary>
    public static Image Ink(ReadOnlySpan<byte> pixels, int width, int height)
    {
        var px = new byte[width * height];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)(255 - pixels[i]);
        return new Image(width, height, 1, px);
    }
}
