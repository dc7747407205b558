using Dendrite.Imaging;

namespace Dendrite.Plotting;

/// <summary>Charts side by side in one picture (for comparing runs: no regularisation, L2, dropout).</summary>
public sealed class ChartRow(params IChart[] charts) : IChart
{
    public IReadOnlyList<IChart> Charts { get; } = charts.Length > 0 ? charts : throw new ArgumentException("A chart row needs at least one chart.", nameof(charts));

    public int Width => Charts.Sum(c => c.Width);
    public int Height => Charts.Max(c => c.Height);

    public void Draw(Canvas canvas)
    {
        double x = 0;
        foreach (var chart in Charts)
        {
            chart.Draw(new Shifted(canvas, x, chart.Width, chart.Height));
            x += chart.Width;
        }
    }

    /// <summary>A canvas that draws on another, moved <paramref name="dx"/> to the right.</summary>
    private sealed class Shifted(Canvas inner, double dx, int width, int height) : Canvas(width, height)
    {
        public override void Line(double x1, double y1, double x2, double y2, Color color, double width = 1) => inner.Line(x1 + dx, y1, x2 + dx, y2, color, width);
        public override void Polyline(IReadOnlyList<(double X, double Y)> points, Color color, double width = 1.5) => inner.Polyline(points.Select(p => (p.X + dx, p.Y)).ToList(), color, width);
        public override void Rect(double x, double y, double w, double h, Color fill) => inner.Rect(x + dx, y, w, h, fill);
        public override void Text(double x, double y, string text, Color color, Anchor anchor = Anchor.Start, bool vertical = false) => inner.Text(x + dx, y, text, color, anchor, vertical);
        public override void Picture(double x, double y, double w, double h, Image image) => inner.Picture(x + dx, y, w, h, image);
    }
}
