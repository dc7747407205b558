using Dendrite.Regularizers;

namespace Dendrite;

// Weight penalties: a regularizer's term of the loss.
public static partial class Ops
{
    /// <summary>
    /// The scalar penalty <paramref name="regularizer"/> puts on <paramref name="weight"/> (l1·Σ|w| + l2·Σw²), to add
    /// to a loss: <c>loss = crossEntropy + Ops.Penalty(w, new L2(0.01f))</c>. Its gradient flows to the weight.
    /// </summary>
    public static Node Penalty(Node weight, Regularizer regularizer) => new PenaltyOp(weight, regularizer);
}

/// <summary>y = r(w) = l1·Σ|w| + l2·Σw²; dw += dy·(l1·sign(w) + 2·l2·w).</summary>
internal sealed class PenaltyOp : Node
{
    private readonly Node _w;

    public PenaltyOp(Node w, Regularizer regularizer) : base("penalty", [], w)
    {
        ArgumentNullException.ThrowIfNull(regularizer);
        _w = w;
        Regularizer = regularizer;
        Value = Tensor.Scalar(0);
    }

    public Regularizer Regularizer { get; }

    protected internal override void Forward() => Value.Span[0] = (float)Regularizer.Penalty(_w.Value.Span);

    protected internal override void Backprop()
    {
        var dw = GradOf(_w, out bool acc);
        Regularizer.Gradient(_w.Value.Span, Grad.Span[0], dw, acc);
    }
}
