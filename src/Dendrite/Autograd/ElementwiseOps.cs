using System.Numerics;
using System.Numerics.Tensors;

namespace Dendrite;

// Elementwise ops: broadcasting add, subtract, multiply, divide and equality, scaling, and the pointwise functions.
public static partial class Ops
{
    /// <summary>a + b; b may be a scalar or match a's trailing dimensions (a bias row), and either side may be the smaller.</summary>
    public static Node Add(Node a, Node b) => Broadcasts(b, a) && !Broadcasts(a, b) ? new BinaryOp(BinaryOp.Kinds.Add, b, a) : new BinaryOp(BinaryOp.Kinds.Add, a, b);

    /// <summary>a - b; b may be a scalar or match a's trailing dimensions.</summary>
    public static Node Subtract(Node a, Node b) => new BinaryOp(BinaryOp.Kinds.Subtract, a, b);

    /// <summary>Elementwise a ⊙ b; either side may be a scalar or match the other's trailing dimensions.</summary>
    public static Node Multiply(Node a, Node b) => Broadcasts(b, a) && !Broadcasts(a, b) ? new BinaryOp(BinaryOp.Kinds.Multiply, b, a) : new BinaryOp(BinaryOp.Kinds.Multiply, a, b);

    /// <summary>Elementwise a / b (IEEE division); b may be a scalar or match a's trailing dimensions. Gradients: da = g / b, db = -g·a / b².</summary>
    public static Node Divide(Node a, Node b) => new BinaryOp(BinaryOp.Kinds.Divide, a, b);

    /// <summary>
    /// 1 where a = b, else 0 (TensorFlow's tf.equal, with the result as floats); either side may be a scalar or the
    /// other's trailing dimensions. NaN equals nothing. No gradient flows through it.
    /// </summary>
    public static Node Equal(Node a, Node b) => Broadcasts(b, a) && !Broadcasts(a, b) ? new BinaryOp(BinaryOp.Kinds.Equal, b, a) : new BinaryOp(BinaryOp.Kinds.Equal, a, b);

    /// <summary>
    /// <paramref name="x"/> converted to <paramref name="dtype"/> (tf.cast): to float32, the values unchanged, with the
    /// gradient passing through (so <c>Ops.Mean(Ops.Cast(Ops.Equal(a, b)))</c> is an accuracy, as in the TensorFlow
    /// tutorial); to int32, truncated toward zero; to bool, 1 where not 0. Casts to int32 and bool have no gradient.
    /// </summary>
    public static Node Cast(Node x, DType dtype = DType.Float32) => new CastOp(x, dtype);

    /// <summary>s·a.</summary>
    public static Node Scale(Node a, float s) => new ScaleOp(a, s);

    public static Node Relu(Node x) => new UnaryOp(UnaryOp.Kinds.Relu, x);

    public static Node Tanh(Node x) => new UnaryOp(UnaryOp.Kinds.Tanh, x);

    public static Node Sigmoid(Node x) => new UnaryOp(UnaryOp.Kinds.Sigmoid, x);

    public static Node Exp(Node x) => new UnaryOp(UnaryOp.Kinds.Exp, x);

    /// <summary>Natural logarithm; the gradient is dy / x.</summary>
    public static Node Log(Node x) => new UnaryOp(UnaryOp.Kinds.Log, x);

    public static Node Square(Node x) => new UnaryOp(UnaryOp.Kinds.Square, x);

    /// <summary>True when b's shape is a scalar or a suffix of a's (a broadcasts b).</summary>
    internal static bool Broadcasts(Node a, Node b) => Broadcasts(a.Shape, b.Shape);

    /// <summary>True when <paramref name="sb"/> is a scalar's shape or a suffix of <paramref name="sa"/> (-1, an unknown batch size, matches anything).</summary>
    internal static bool Broadcasts(ReadOnlySpan<int> sa, ReadOnlySpan<int> sb)
    {
        if (sb.Length == 0) return true;
        if (sb.Length > sa.Length) return false;
        for (int i = 1; i <= sb.Length; i++)
        {
            int da = sa[^i], db = sb[^i];
            if (da != db && da != -1 && db != -1) return false;
        }
        return true;
    }
}

/// <summary>a ∘ b where b is the same shape as a, a scalar, or a's trailing dimensions (repeated over a's leading ones).</summary>
internal sealed class BinaryOp : Node
{
    internal enum Kinds { Add, Subtract, Multiply, Divide, Equal }

    private readonly Kinds _kind;
    private readonly Node _a, _b;

    public BinaryOp(Kinds kind, Node a, Node b) : base(kind.ToString().ToLowerInvariant(), a.Shape, a, b)
    {
        if (!Ops.Broadcasts(a, b))
            throw new ArgumentException($"Cannot {kind.ToString().ToLowerInvariant()} shapes {Tensor.ShapeToString(a.Shape)} and {Tensor.ShapeToString(b.Shape)}: the second must be a scalar or match the first's trailing dimensions.");
        _kind = kind; _a = a; _b = b;
        if (kind == Kinds.Equal) RequiresGrad = false;    // a comparison has no gradient (as tf.equal)
    }

    protected internal override void Forward()
    {
        Tensor x = _a.Value, y = _b.Value;
        int lb = y.Length;
        if (lb == 0 || x.Length % lb != 0)
            throw new InvalidOperationException($"`{Name}`: shapes {Tensor.ShapeToString(x.ShapeSpan)} and {Tensor.ShapeToString(y.ShapeSpan)} do not broadcast.");
        Value.Resize(x.ShapeSpan);
        Compute(_kind, x.Span, y.Span, Value.Span, smallFirst: false);
    }

    /// <summary>
    /// z = x ∘ y with <paramref name="y"/> repeated over <paramref name="x"/> (its length divides x's); with
    /// <paramref name="smallFirst"/>, z = y ∘ x. The one kernel for the graph and for tensor arithmetic.
    /// </summary>
    internal static void Compute(Kinds kind, ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> z, bool smallFirst)
    {
        int lb = y.Length;
        if (lb == 1)
        {
            float s = y[0];
            switch (kind)
            {
                case Kinds.Add: TensorPrimitives.Add(x, s, z); break;
                case Kinds.Subtract: if (smallFirst) TensorPrimitives.Subtract(s, x, z); else TensorPrimitives.Subtract(x, s, z); break;
                case Kinds.Multiply: TensorPrimitives.Multiply(x, s, z); break;
                case Kinds.Divide: if (smallFirst) TensorPrimitives.Divide(s, x, z); else TensorPrimitives.Divide(x, s, z); break;
                default: EqualTo(x, s, z); break;
            }
            return;
        }
        for (int o = 0; o < x.Length; o += lb)
        {
            var xr = x.Slice(o, lb); var zr = z.Slice(o, lb);
            switch (kind)
            {
                case Kinds.Add: TensorPrimitives.Add(xr, y, zr); break;
                case Kinds.Subtract: if (smallFirst) TensorPrimitives.Subtract(y, xr, zr); else TensorPrimitives.Subtract(xr, y, zr); break;
                case Kinds.Multiply: TensorPrimitives.Multiply(xr, y, zr); break;
                case Kinds.Divide: if (smallFirst) TensorPrimitives.Divide(y, xr, zr); else TensorPrimitives.Divide(xr, y, zr); break;
                default: EqualTo(xr, y, zr); break;
            }
        }
    }

    private float[] _scratch = [];

    /// <summary>A buffer of <paramref name="n"/> floats kept from one run to the next.</summary>
    private Span<float> Scratch(int n)
    {
        if (_scratch.Length < n) _scratch = new float[n];
        return _scratch.AsSpan(0, n);
    }

    /// <summary>z = 1 where x = y, else 0.</summary>
    private static void EqualTo(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> z)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
                Vector.ConditionalSelect(Vector.Equals(new Vector<float>(x[i..]), new Vector<float>(y[i..])), Vector<float>.One, Vector<float>.Zero).CopyTo(z[i..]);
        for (; i < x.Length; i++) z[i] = x[i] == y[i] ? 1f : 0f;
    }

    /// <summary>z = 1 where x = s, else 0.</summary>
    private static void EqualTo(ReadOnlySpan<float> x, float s, Span<float> z)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vs = new Vector<float>(s);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
                Vector.ConditionalSelect(Vector.Equals(new Vector<float>(x[i..]), vs), Vector<float>.One, Vector<float>.Zero).CopyTo(z[i..]);
        }
        for (; i < x.Length; i++) z[i] = x[i] == s ? 1f : 0f;
    }

    protected internal override void Backprop()
    {
        var g = Grad.Span;
        var xs = _a.Value.Span; var ys = _b.Value.Span;
        int lb = ys.Length;
        if (_a.RequiresGrad)
        {
            var da = GradToAdd(_a);
            if (_kind == Kinds.Multiply)
                for (int o = 0; o < g.Length; o += lb) TensorPrimitives.MultiplyAdd(g.Slice(o, lb), ys, da.Slice(o, lb), da.Slice(o, lb));
            else if (_kind == Kinds.Divide)
            {
                var t = Scratch(lb);
                for (int o = 0; o < g.Length; o += lb)   // da += g / b
                {
                    TensorPrimitives.Divide(g.Slice(o, lb), ys, t);
                    TensorPrimitives.Add(da.Slice(o, lb), t, da.Slice(o, lb));
                }
            }
            else TensorPrimitives.Add(da, g, da);
        }
        if (_b.RequiresGrad)
        {
            var db = GradToAdd(_b);
            for (int o = 0; o < g.Length; o += lb)
            {
                var gr = g.Slice(o, lb);
                switch (_kind)
                {
                    case Kinds.Add: TensorPrimitives.Add(db, gr, db); break;
                    case Kinds.Subtract: TensorPrimitives.Subtract(db, gr, db); break;
                    case Kinds.Multiply: TensorPrimitives.MultiplyAdd(gr, xs.Slice(o, lb), db, db); break;
                    default:   // divide: db -= g·(a/b)/b = g·z/b
                        var t = Scratch(lb);
                        TensorPrimitives.Multiply(gr, Value.Span.Slice(o, lb), t);
                        TensorPrimitives.Divide(t, ys, t);
                        TensorPrimitives.Subtract(db, t, db);
                        break;
                }
            }
        }
    }
}

internal sealed class ScaleOp(Node a, float s) : Node("scale", a.Shape, a)
{
    protected internal override void Forward()
    {
        Value.Resize(a.Value.ShapeSpan);
        TensorPrimitives.Multiply(a.Value.Span, s, Value.Span);
    }

    protected internal override void Backprop()
    {
        var da = GradToAdd(a);
        TensorPrimitives.MultiplyAdd(Grad.Span, s, da, da);
    }
}

internal sealed class UnaryOp : Node
{
    internal enum Kinds { Relu, Tanh, Sigmoid, Exp, Log, Square }

    private readonly Kinds _kind;
    private readonly Node _x;

    public UnaryOp(Kinds kind, Node x) : base(kind.ToString().ToLowerInvariant(), x.Shape, x) { _kind = kind; _x = x; }

    protected internal override void Forward()
    {
        Value.Resize(_x.Value.ShapeSpan);
        var x = _x.Value.Span; var y = Value.Span;
        switch (_kind)
        {
            case Kinds.Relu: TensorPrimitives.Max(x, 0f, y); break;               // y = max(x, 0)
            case Kinds.Tanh: TensorPrimitives.Tanh(x, y); break;                  // y = tanh x
            case Kinds.Sigmoid: TensorPrimitives.Sigmoid(x, y); break;            // y = 1 / (1 + e^-x)
            case Kinds.Exp: TensorPrimitives.Exp(x, y); break;                    // y = e^x
            case Kinds.Log: TensorPrimitives.Log(x, y); break;                    // y = ln x
            default: TensorPrimitives.Multiply(x, x, y); break;                   // y = x²
        }
    }

    protected internal override void Backprop()
    {
        var g = Grad.Span; var x = _x.Value.Span; var y = Value.Span;
        var dx = GradToAdd(_x);
        for (int i = 0; i < g.Length; i++)
        {
            float d = _kind switch
            {
                Kinds.Relu => x[i] > 0 ? 1f : 0f,
                Kinds.Tanh => 1 - y[i] * y[i],
                Kinds.Sigmoid => y[i] * (1 - y[i]),
                Kinds.Exp => y[i],
                Kinds.Log => 1 / x[i],
                _ => 2 * x[i],
            };
            dx[i] += g[i] * d;
        }
    }
}

/// <summary>tf.cast for float32 storage: float32 is a copy (gradient passes through), int32 truncates, bool tests for non-zero.</summary>
internal sealed class CastOp : Node
{
    private readonly Node _x;
    private readonly DType _type;

    public CastOp(Node x, DType type) : base("cast", x.Shape, x)
    {
        if (!Enum.IsDefined(type)) throw new ArgumentException($"Invalid value received for argument `dtype`. Expected one of {string.Join(", ", Enum.GetNames<DType>())}. Received: dtype={(int)type}.");
        _x = x; _type = type;
        if (type != DType.Float32) RequiresGrad = false;
    }

    protected internal override void Forward()
    {
        Value.Resize(_x.Value.ShapeSpan);
        var x = _x.Value.Span; var y = Value.Span;
        switch (_type)
        {
            case DType.Float32: x.CopyTo(y); break;
            case DType.Int32:   // as .NET's saturating (int) conversion: truncate, clamp, NaN to 0
                TensorPrimitives.Truncate(x, y);
                TensorPrimitives.Clamp(y, int.MinValue, int.MaxValue, y);
                int k = 0;
                if (Vector.IsHardwareAccelerated)
                    for (; k <= y.Length - Vector<float>.Count; k += Vector<float>.Count)
                    {
                        var v = new Vector<float>(y[k..]);
                        Vector.ConditionalSelect(Vector.IsNaN(v), Vector<float>.Zero, v).CopyTo(y[k..]);
                    }
                for (; k < y.Length; k++) if (float.IsNaN(y[k])) y[k] = 0;
                break;
            default:
                int i = 0;
                if (Vector.IsHardwareAccelerated)
                    for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
                        Vector.ConditionalSelect(Vector.Equals(new Vector<float>(x[i..]), Vector<float>.Zero), Vector<float>.Zero, Vector<float>.One).CopyTo(y[i..]);
                for (; i < x.Length; i++) y[i] = x[i] == 0 ? 0f : 1f;
                break;
        }
    }

    protected internal override void Backprop()
    {
        var dx = GradToAdd(_x);
        TensorPrimitives.Add(dx, Grad.Span, dx);
    }
}
