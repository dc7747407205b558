using System.Globalization;
using System.Text;
using Dendrite.Imaging;

namespace Dendrite.Plotting;

/// <summary>An RGBA colour.</summary>
public readonly record struct Color(byte R, byte G, byte B, byte A = 255)
{
    public string Hex => $"#{R:x2}{G:x2}{B:x2}";
    public static Color Rgb(int rgb) => new((byte)(rgb >> 16), (byte)(rgb >> 8), (byte)rgb);
    public Color WithAlpha(byte a) => this with { A = a };
    public static readonly Color Black = new(0, 0, 0), White = new(255, 255, 255), Grey = new(120, 120, 120), LightGrey = new(225, 225, 225);
    /// <summary>Distinguishable series colours (the tab10 palette).</summary>
    public static readonly Color[] Series = [Rgb(0x1f77b4), Rgb(0xff7f0e), Rgb(0x2ca02c), Rgb(0xd62728), Rgb(0x9467bd), Rgb(0x8c564b)];

    public static Color Lerp(Color a, Color b, double t)
    {
        t = Math.Clamp(t, 0, 1);
        return new((byte)(a.R + (b.R - a.R) * t), (byte)(a.G + (b.G - a.G) * t), (byte)(a.B + (b.B - a.B) * t));
    }
}

public enum Anchor { Start, Middle, End }

/// <summary>
/// Where charts draw: lines, rectangles, text and images in pixel coordinates (origin top left). One drawing
/// routine renders to SVG (<see cref="SvgCanvas"/>) or to pixels for PNG (<see cref="RasterCanvas"/>); text uses
/// the same metrics (DejaVu Sans, 13 px) in both, so layouts agree.
/// </summary>
public abstract class Canvas(int width, int height)
{
    public int Width { get; } = width;
    public int Height { get; } = height;

    public abstract void Line(double x1, double y1, double x2, double y2, Color color, double width = 1);
    public virtual void Polyline(IReadOnlyList<(double X, double Y)> points, Color color, double width = 1.5)
    {
        for (int i = 1; i < points.Count; i++) Line(points[i - 1].X, points[i - 1].Y, points[i].X, points[i].Y, color, width);
    }
    public abstract void Rect(double x, double y, double w, double h, Color fill);
    /// <summary>Text with its baseline at y; vertical text reads bottom to top, anchored around (x, y).</summary>
    public abstract void Text(double x, double y, string text, Color color, Anchor anchor = Anchor.Start, bool vertical = false);
    /// <summary>A grey (1 channel) or RGB(A) image scaled to the rectangle, without smoothing.</summary>
    public abstract void Picture(double x, double y, double w, double h, Image image);

    /// <summary>The width of <paramref name="text"/> in pixels.</summary>
    public static double TextWidth(string text) => Glyphs.Measure(text);
}

/// <summary>Renders to an SVG document.</summary>
public sealed class SvgCanvas : Canvas
{
    private readonly StringBuilder _sb = new();

    public SvgCanvas(int width, int height) : base(width, height)
    {
        _sb.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"DejaVu Sans, Verdana, sans-serif\" font-size=\"13\">\n");
        _sb.Append(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\n");
    }

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
    private static string Opacity(Color c) => c.A == 255 ? "" : $" opacity=\"{F(c.A / 255.0)}\"";

    public override void Line(double x1, double y1, double x2, double y2, Color color, double width = 1) =>
        _sb.Append($"<line x1=\"{F(x1)}\" y1=\"{F(y1)}\" x2=\"{F(x2)}\" y2=\"{F(y2)}\" stroke=\"{color.Hex}\" stroke-width=\"{F(width)}\"{Opacity(color)}/>\n");

    public override void Polyline(IReadOnlyList<(double X, double Y)> points, Color color, double width = 1.5)
    {
        _sb.Append("<polyline fill=\"none\" stroke=\"").Append(color.Hex).Append("\" stroke-width=\"").Append(F(width)).Append('"').Append(Opacity(color)).Append(" stroke-linejoin=\"round\" points=\"");
        foreach (var (x, y) in points) _sb.Append(F(x)).Append(',').Append(F(y)).Append(' ');
        _sb.Append("\"/>\n");
    }

    public override void Rect(double x, double y, double w, double h, Color fill) =>
        _sb.Append($"<rect x=\"{F(x)}\" y=\"{F(y)}\" width=\"{F(w)}\" height=\"{F(h)}\" fill=\"{fill.Hex}\"{Opacity(fill)}/>\n");

    public override void Text(double x, double y, string text, Color color, Anchor anchor = Anchor.Start, bool vertical = false)
    {
        string a = anchor switch { Anchor.Middle => "middle", Anchor.End => "end", _ => "start" };
        string rotate = vertical ? $" transform=\"rotate(-90 {F(x)} {F(y)})\"" : "";
        _sb.Append($"<text x=\"{F(x)}\" y=\"{F(y)}\" fill=\"{color.Hex}\" text-anchor=\"{a}\"{rotate}>{System.Security.SecurityElement.Escape(Printable.Escape(text))}</text>\n");
    }

    public override void Picture(double x, double y, double w, double h, Image image) =>
        _sb.Append($"<image x=\"{F(x)}\" y=\"{F(y)}\" width=\"{F(w)}\" height=\"{F(h)}\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64,{Convert.ToBase64String(Png.Encode(image))}\"/>\n");

    public override string ToString() => _sb.ToString() + "</svg>\n";
}

/// <summary>Renders to pixels (for PNG): anti-aliased lines, filled rectangles, text from the embedded font.</summary>
public sealed class RasterCanvas : Canvas
{
    private readonly float[] _rgb;

    public RasterCanvas(int width, int height) : base(width, height)
    {
        _rgb = new float[width * height * 3];
        Array.Fill(_rgb, 255f);
    }

    private void Blend(int x, int y, Color c, double coverage)
    {
        if ((uint)x >= (uint)Width || (uint)y >= (uint)Height || coverage <= 0) return;
        float a = (float)(Math.Min(1, coverage) * c.A / 255.0);
        int o = (y * Width + x) * 3;
        _rgb[o] += (c.R - _rgb[o]) * a;
        _rgb[o + 1] += (c.G - _rgb[o + 1]) * a;
        _rgb[o + 2] += (c.B - _rgb[o + 2]) * a;
    }

    public override void Line(double x1, double y1, double x2, double y2, Color color, double width = 1)
    {
        // Coverage from the distance of each pixel centre to the segment: a one-pixel soft edge.
        double half = width / 2, dx = x2 - x1, dy = y2 - y1, len2 = dx * dx + dy * dy;
        int xa = (int)Math.Floor(Math.Min(x1, x2) - half - 1), xb = (int)Math.Ceiling(Math.Max(x1, x2) + half + 1);
        int ya = (int)Math.Floor(Math.Min(y1, y2) - half - 1), yb = (int)Math.Ceiling(Math.Max(y1, y2) + half + 1);
        for (int y = Math.Max(0, ya); y <= Math.Min(Height - 1, yb); y++)
            for (int x = Math.Max(0, xa); x <= Math.Min(Width - 1, xb); x++)
            {
                double px = x + 0.5 - x1, py = y + 0.5 - y1;
                double t = len2 == 0 ? 0 : Math.Clamp((px * dx + py * dy) / len2, 0, 1);
                double ex = px - t * dx, ey = py - t * dy;
                double d = Math.Sqrt(ex * ex + ey * ey);
                Blend(x, y, color, half + 0.5 - d);
            }
    }

    public override void Rect(double x, double y, double w, double h, Color fill)
    {
        for (int py = (int)Math.Max(0, Math.Floor(y)); py < Math.Min(Height, Math.Ceiling(y + h)); py++)
            for (int px = (int)Math.Max(0, Math.Floor(x)); px < Math.Min(Width, Math.Ceiling(x + w)); px++)
            {
                double cx = Math.Min(px + 1, x + w) - Math.Max(px, x), cy = Math.Min(py + 1, y + h) - Math.Max(py, y);
                Blend(px, py, fill, cx * cy);
            }
    }

    public override void Text(double x, double y, string text, Color color, Anchor anchor = Anchor.Start, bool vertical = false)
    {
        text = Printable.Escape(text);
        double w = Glyphs.Measure(text);
        double start = anchor switch { Anchor.Middle => -w / 2, Anchor.End => -w, _ => 0 };
        // Snap the text's origin to whole pixels: glyph masks are pixel-aligned, and a half-pixel start smears them.
        x = Math.Round(vertical ? x : x + start) - (vertical ? 0 : start);
        y = Math.Round(vertical ? y - start : y) + (vertical ? start : 0);
        double pen = start;
        foreach (char ch in text)
        {
            var g = Glyphs.Get(ch);
            for (int gy = 0; gy < g.Height; gy++)
                for (int gx = 0; gx < g.Width; gx++)
                {
                    byte cov = g.Coverage[gy * g.Width + gx];
                    if (cov == 0) continue;
                    // Glyph offsets are from the top of a line box whose baseline is Ascent below it.
                    double u = pen + g.XOffset + gx, v = g.YOffset + gy - FontData.Ascent;
                    int px = vertical ? (int)Math.Round(x + v) : (int)Math.Round(x + u);
                    int py = vertical ? (int)Math.Round(y - u) : (int)Math.Round(y + v);
                    Blend(px, py, color, cov / 255.0);
                }
            pen += g.Advance;
        }
    }

    public override void Picture(double x, double y, double w, double h, Image image)
    {
        for (int py = (int)Math.Max(0, y); py < Math.Min(Height, y + h); py++)
            for (int px = (int)Math.Max(0, x); px < Math.Min(Width, x + w); px++)
            {
                int sx = Math.Min(image.Width - 1, (int)((px - x) * image.Width / w));
                int sy = Math.Min(image.Height - 1, (int)((py - y) * image.Height / h));
                int o = (sy * image.Width + sx) * image.Channels;
                var c = image.Channels >= 3 ? new Color(image.Pixels[o], image.Pixels[o + 1], image.Pixels[o + 2]) : new Color(image.Pixels[o], image.Pixels[o], image.Pixels[o]);
                Blend(px, py, c, 1);
            }
    }

    public Image ToImage()
    {
        var px = new byte[Width * Height * 3];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)Math.Clamp(MathF.Round(_rgb[i]), 0, 255);
        return new Image(Width, Height, 3, px);
    }
}

/// <summary>The embedded font's glyphs, decoded once.</summary>
internal static class Glyphs
{
    internal sealed record Glyph(int Advance, int Width, int Height, int XOffset, int YOffset, byte[] Coverage);

    private static readonly Glyph[] All = Decode();

    private static Glyph[] Decode()
    {
        var data = Convert.FromBase64String(FontData.Glyphs);
        var glyphs = new Glyph[95];
        int p = 0;
        for (int i = 0; i < 95; i++)
        {
            int adv = data[p], w = data[p + 1], h = data[p + 2], xo = (sbyte)data[p + 3], yo = (sbyte)data[p + 4];
            p += 5;
            glyphs[i] = new Glyph(adv, w, h, xo, yo, data.AsSpan(p, w * h).ToArray());
            p += w * h;
        }
        return glyphs;
    }

    public static Glyph Get(char c) => c is >= ' ' and <= '~' ? All[c - ' '] : All['?' - ' '];

    public static double Measure(string text) => text.Sum(c => Get(c).Advance);
}
