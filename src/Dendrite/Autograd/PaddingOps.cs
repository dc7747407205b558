using System.Numerics.Tensors;

namespace Dendrite;

public static partial class Ops
{
    /// <summary>Zeros around NHWC images: (batch, h, w, c) becomes (batch, top + h + bottom, left + w + right, c).</summary>
    public static Node ZeroPad2D(Node x, int top, int bottom, int left, int right) => new ZeroPad2DOp(x, top, bottom, left, right);
}

internal sealed class ZeroPad2DOp : Node
{
    private readonly Node _x;
    private readonly int _top, _bottom, _left, _right;

    public ZeroPad2DOp(Node x, int top, int bottom, int left, int right) : base("zero_pad2d", ShapeOf(x.Shape, top + bottom, left + right), x)
    {
        _x = x; _top = top; _bottom = bottom; _left = left; _right = right;
    }

    private static int[] ShapeOf(int[] x, int rows, int cols)
    {
        if (x.Length != 4) throw new ArgumentException($"ZeroPadding2D takes batches of images of shape (batch, height, width, channels); received {Tensor.ShapeToString(x)}.");
        return [x[0], x[1] + rows, x[2] + cols, x[3]];
    }

    protected internal override void Forward()
    {
        var x = _x.Value;
        int n = x.Dim(0), h = x.Dim(1), w = x.Dim(2), c = x.Dim(3);
        int oh = h + _top + _bottom, ow = w + _left + _right;
        Value.Resize([n, oh, ow, c]);
        var y = Value.Span; var xs = x.Span;
        y.Clear();
        for (int i = 0; i < n; i++)
            for (int r = 0; r < h; r++)
                xs.Slice(((i * h) + r) * w * c, w * c).CopyTo(y.Slice((((i * oh) + r + _top) * ow + _left) * c, w * c));
    }

    protected internal override void Backprop()
    {
        var x = _x.Value;
        int n = x.Dim(0), h = x.Dim(1), w = x.Dim(2), c = x.Dim(3);
        int oh = h + _top + _bottom, ow = w + _left + _right;
        var dx = GradToAdd(_x);
        var g = Grad.Span;
        for (int i = 0; i < n; i++)
            for (int r = 0; r < h; r++)
            {
                var d = dx.Slice(((i * h) + r) * w * c, w * c);
                TensorPrimitives.Add(d, g.Slice((((i * oh) + r + _top) * ow + _left) * c, w * c), d);
            }
    }
}
