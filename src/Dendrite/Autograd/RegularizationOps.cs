using System.Numerics;
using System.Numerics.Tensors;

namespace Dendrite;

// Dropout: noise that acts only while training.
public static partial class Ops
{
    /// <summary>
    /// Inverted dropout, as Keras's Dropout: while <paramref name="training"/> is on, each element is zeroed with
    /// probability <paramref name="rate"/> and the rest scaled by 1/(1 - rate), so the expected value is unchanged;
    /// otherwise the input passes through untouched. The mask is drawn from (<paramref name="seed"/>, the switch's
    /// step), so the same seed and step give the same mask.
    /// </summary>
    public static Node Dropout(Node x, float rate, TrainingSwitch? training, ulong seed = 0) => new DropoutOp(x, rate, training, seed);
}

/// <summary>y = x ⊙ m with m = 1/(1 - rate) where u ≥ rate, else 0 (u uniform from the counter-based generator); dx = dy ⊙ m.</summary>
internal sealed class DropoutOp : Node, IParallelWork
{
    /// <summary>Elements per part below which a second thread costs more than it saves.</summary>
    private const int MinPerPart = 1 << 15;

    private readonly Node _x;
    private readonly float _rate;
    private readonly TrainingSwitch? _training;
    private readonly ulong _seed;
    private readonly Tensor _own = new(0);
    private readonly Tensor _mask = new(0);
    private bool _dropped;
    private uint _k1, _k2;

    public DropoutOp(Node x, float rate, TrainingSwitch? training, ulong seed) : base("dropout", x.Shape, x)
    {
        if (!(rate >= 0 && rate < 1))
            throw new ArgumentOutOfRangeException(nameof(rate), rate, $"Invalid value received for argument `rate`. Expected a float between 0 and 1 (1 excluded). Received: rate={rate}.");
        _x = x; _rate = rate; _training = training; _seed = seed;
    }

    protected internal override void Forward()
    {
        var x = _x.Value;
        _dropped = _rate > 0 && TrainingSwitch.IsOn(_training);
        if (!_dropped) { Value = x; return; }               // inference: the input itself, no copy
        if (ReferenceEquals(Value, x)) Value = _own;
        Value.Resize(x.ShapeSpan);
        _mask.Resize(x.ShapeSpan);
        (_k1, _k2) = CounterRng.Keys(_seed, _training!.Step);
        Parallelism.RunOrInline(this, Math.Clamp(x.Length / MinPerPart, 1, Parallelism.MaxThreads));
    }

    public void Execute(int part, int parts)
    {
        int n = _x.Value.Length;
        int lo = (int)((long)n * part / parts), hi = (int)((long)n * (part + 1) / parts);
        var m = _mask.Span.Slice(lo, hi - lo);
        CounterRng.Uniform(_k1, _k2, (uint)lo, m);
        float keep = 1f / (1 - _rate);
        int i = 0, vw = Vector<float>.Count;
        var rate = new Vector<float>(_rate); var scale = new Vector<float>(keep);
        for (; i <= m.Length - vw; i += vw)
            Vector.ConditionalSelect(Vector.GreaterThanOrEqual(new Vector<float>(m.Slice(i)), rate), scale, Vector<float>.Zero).CopyTo(m.Slice(i));
        for (; i < m.Length; i++) m[i] = m[i] >= _rate ? keep : 0f;
        TensorPrimitives.Multiply(_x.Value.Span.Slice(lo, hi - lo), m, Value.Span.Slice(lo, hi - lo));
    }

    protected internal override void Backprop()
    {
        var dx = GradOf(_x, out bool acc);
        var g = Grad.Span;
        if (_dropped)
        {
            if (acc) TensorPrimitives.MultiplyAdd(g, _mask.Span, dx, dx);
            else TensorPrimitives.Multiply(g, _mask.Span, dx);
        }
        else if (acc) TensorPrimitives.Add(dx, g, dx);
        else g.CopyTo(dx);
    }
}
