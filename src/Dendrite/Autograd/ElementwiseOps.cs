using System.Numerics.Tensors;

namespace Dendrite;

// Elementwise ops: broadcasting add, subtract and multiply, scaling, and the pointwise functions.
public static partial class Ops
{
    /// <summary>a + b; b may be a scalar or match a's trailing dimensions (a bias row), and either side may be the smaller.</summary>
    public static Node Add(Node a, Node b) => Broadcasts(b, a) && !Broadcasts(a, b) ? new BinaryOp(BinaryOp.Kinds.Add, b, a) : new BinaryOp(BinaryOp.Kinds.Add, a, b);

    /// <summary>a - b; b may be a scalar or match a's trailing dimensions.</summary>
    public static Node Subtract(Node a, Node b) => new BinaryOp(BinaryOp.Kinds.Subtract, a, b);

    /// <summary>Elementwise a ⊙ b; either side may be a scalar or match the other's trailing dimensions.</summary>
    public static Node Multiply(Node a, Node b) => Broadcasts(b, a) && !Broadcasts(a, b) ? new BinaryOp(BinaryOp.Kinds.Multiply, b, a) : new BinaryOp(BinaryOp.Kinds.Multiply, a, b);

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
    internal static bool Broadcasts(Node a, Node b)
    {
        var sa = a.Shape; var sb = b.Shape;
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
    internal enum Kinds { Add, Subtract, Multiply }

    private readonly Kinds _kind;
    private readonly Node _a, _b;

    public BinaryOp(Kinds kind, Node a, Node b) : base(kind.ToString().ToLowerInvariant(), a.Shape, a, b)
    {
        if (!Ops.Broadcasts(a, b))
            throw new ArgumentException($"Cannot {kind.ToString().ToLowerInvariant()} shapes {Tensor.ShapeToString(a.Shape)} and {Tensor.ShapeToString(b.Shape)}: the second must be a scalar or match the first's trailing dimensions.");
        _kind = kind; _a = a; _b = b;
    }

    protected internal override void Forward()
    {
        Tensor x = _a.Value, y = _b.Value;
        int lb = y.Length;
        if (lb == 0 || x.Length % lb != 0)
            throw new InvalidOperationException($"`{Name}`: shapes {Tensor.ShapeToString(x.ShapeSpan)} and {Tensor.ShapeToString(y.ShapeSpan)} do not broadcast.");
        Value.Resize(x.ShapeSpan);
        var xs = x.Span; var ys = y.Span; var zs = Value.Span;
        for (int o = 0; o < xs.Length; o += lb)
        {
            var xr = xs.Slice(o, lb); var zr = zs.Slice(o, lb);
            switch (_kind)
            {
                case Kinds.Add: TensorPrimitives.Add(xr, ys, zr); break;
                case Kinds.Subtract: TensorPrimitives.Subtract(xr, ys, zr); break;
                default: TensorPrimitives.Multiply(xr, ys, zr); break;
            }
        }
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
                    default: TensorPrimitives.MultiplyAdd(gr, xs.Slice(o, lb), db, db); break;
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
