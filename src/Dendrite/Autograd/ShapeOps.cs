using System.Numerics.Tensors;

namespace Dendrite;

// Ops that change a tensor's shape without changing its values.
public static partial class Ops
{
    /// <summary>The same values in another shape; -1 keeps the batch size. No copy in the forward pass.</summary>
    public static Node Reshape(Node x, params int[] shape) => new ReshapeOp(x, shape);
}

internal sealed class ReshapeOp : Node
{
    private readonly Node _x;
    private readonly int[] _target;
    private float[]? _storage;

    public ReshapeOp(Node x, int[] shape) : base("reshape", ShapeOf(x, shape), x)
    {
        _x = x;
        _target = shape;
    }

    private static int[] ShapeOf(Node x, int[] shape)
    {
        if (shape.Count(d => d == -1) > 1) throw new ArgumentException("Only one dimension of a reshape may be -1.");
        bool open = shape.Contains(-1) || x.Shape.Contains(-1);
        if (!open && Tensor.ProductOf(shape) != Tensor.ProductOf(x.Shape))
            throw new ArgumentException($"Cannot reshape {Tensor.ShapeToString(x.Shape)} into {Tensor.ShapeToString(shape)}.");
        return shape;
    }

    protected internal override void Forward()
    {
        var v = _x.Value;
        if (!ReferenceEquals(v.Storage, _storage) || Value.Length != v.Length)
        {
            Value = v.Reshape(_target);
            _storage = v.Storage;
        }
    }

    protected internal override void Backprop()
    {
        var dx = GradOf(_x, out bool acc);
        if (acc) TensorPrimitives.Add(dx, Grad.Span, dx);
        else Grad.Span.CopyTo(dx);
    }
}
