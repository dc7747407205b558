using System.Numerics.Tensors;

namespace Dendrite;

/// <summary>
/// The graph's operations. Each builds a node; nothing is computed until the graph runs
/// (<see cref="Node.Evaluate"/> or <see cref="Node.Backward"/>). Shapes are checked here, when the
/// graph is built, with -1 standing for the batch size.
/// </summary>
public static class Ops
{
    /// <summary>op(a)·op(b) for matrices; op transposes when asked.</summary>
    public static Node MatMul(Node a, Node b, bool transposeA = false, bool transposeB = false) => new MatMulOp(a, b, transposeA, transposeB);

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

    /// <summary>Softmax over the last axis.</summary>
    public static Node Softmax(Node x) => new SoftmaxOp(x, log: false);

    /// <summary>log(softmax(x)) over the last axis, computed stably.</summary>
    public static Node LogSoftmax(Node x) => new SoftmaxOp(x, log: true);

    /// <summary>The sum of all elements (a scalar).</summary>
    public static Node Sum(Node x) => new ReduceAllOp(x, mean: false);

    /// <summary>The mean of all elements (a scalar).</summary>
    public static Node Mean(Node x) => new ReduceAllOp(x, mean: true);

    /// <summary>Sum over one axis of a rank-2 tensor: axis 0 sums the rows (giving a row), axis 1 (or -1) each row (giving a column).</summary>
    public static Node Sum(Node x, int axis) => new ReduceAxisOp(x, axis, mean: false);

    /// <summary>Mean over one axis of a rank-2 tensor.</summary>
    public static Node Mean(Node x, int axis) => new ReduceAxisOp(x, axis, mean: true);

    /// <summary>The same values in another shape; -1 keeps the batch size. No copy in the forward pass.</summary>
    public static Node Reshape(Node x, params int[] shape) => new ReshapeOp(x, shape);

    /// <summary>f(x·W + b) in one op: the Dense layer's work, with the bias and activation fused into the matmul's epilogue. f must be elementwise.</summary>
    public static Node Dense(Node x, Node kernel, Node? bias, ActivationFunction activation) => new DenseOp(x, kernel, bias, activation);

    /// <summary>Mean over the batch of -Σ t·log softmax(logits): softmax and cross-entropy fused, stable for any logits.</summary>
    public static Node SoftmaxCrossEntropy(Node logits, Node oneHotTargets) => new SoftmaxCrossEntropyOp(logits, oneHotTargets, sparse: false);

    /// <summary>As <see cref="SoftmaxCrossEntropy"/>, with targets given as class indices (shape (batch,)).</summary>
    public static Node SparseSoftmaxCrossEntropy(Node logits, Node labels) => new SoftmaxCrossEntropyOp(logits, labels, sparse: true);

    /// <summary>Mean over the batch of -Σ t·log p, with p clipped to [1e-7, 1 - 1e-7] as Keras does.</summary>
    public static Node CategoricalCrossEntropy(Node probabilities, Node oneHotTargets) => new PointwiseLossOp(PointwiseLossOp.Kinds.CategoricalCrossEntropy, probabilities, oneHotTargets);

    /// <summary>Mean over all elements of -(t·log p + (1-t)·log(1-p)), p clipped to [1e-7, 1 - 1e-7].</summary>
    public static Node BinaryCrossEntropy(Node probabilities, Node targets) => new PointwiseLossOp(PointwiseLossOp.Kinds.BinaryCrossEntropy, probabilities, targets);

    /// <summary>Mean over all elements of (p - t)² (Keras's mean_squared_error).</summary>
    public static Node MeanSquaredError(Node predictions, Node targets) => new PointwiseLossOp(PointwiseLossOp.Kinds.MeanSquaredError, predictions, targets);

    /// <summary>Mean over the batch of ½‖p - t‖²: the quadratic cost of Nielsen's book.</summary>
    public static Node QuadraticCost(Node predictions, Node targets) => new PointwiseLossOp(PointwiseLossOp.Kinds.Quadratic, predictions, targets);

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

    internal static int[] MatMulShape(int[] a, int[] b, bool ta, bool tb)
    {
        if (a.Length != 2 || b.Length != 2)
            throw new ArgumentException($"MatMul needs two matrices; received shapes {Tensor.ShapeToString(a)} and {Tensor.ShapeToString(b)}.");
        int m = ta ? a[1] : a[0], ka = ta ? a[0] : a[1];
        int kb = tb ? b[1] : b[0], n = tb ? b[0] : b[1];
        if (ka != kb && ka != -1 && kb != -1)
            throw new ArgumentException($"MatMul shapes do not match: {Tensor.ShapeToString(a)}{(ta ? "ᵀ" : "")} · {Tensor.ShapeToString(b)}{(tb ? "ᵀ" : "")} (inner dimensions {ka} and {kb}).");
        return [m, n];
    }
}

internal sealed class MatMulOp(Node a, Node b, bool ta, bool tb) : Node("matmul", Ops.MatMulShape(a.Shape, b.Shape, ta, tb), a, b)
{
    protected internal override void Forward()
    {
        Tensor x = a.Value, y = b.Value;
        int m = ta ? x.Dim(1) : x.Dim(0), k = ta ? x.Dim(0) : x.Dim(1), n = tb ? y.Dim(0) : y.Dim(1);
        int kb = tb ? y.Dim(1) : y.Dim(0);
        if (k != kb) throw new InvalidOperationException($"MatMul `{Name}`: inner dimensions differ at run time ({k} and {kb}).");
        Value.Resize(m, n);
        Gemm.Multiply(ta, tb, m, n, k, x.Span, x.Dim(1), y.Span, y.Dim(1), Value.Span, n);
    }

    protected internal override void Backprop()
    {
        Tensor x = a.Value, y = b.Value, g = Grad;
        int m = Value.Dim(0), n = Value.Dim(1), k = ta ? x.Dim(0) : x.Dim(1);
        if (a.RequiresGrad)
        {
            var da = GradOf(a, out bool acc);
            // dA = dC·op(B)ᵀ, or its transpose when A is stored transposed.
            if (!ta) Gemm.Multiply(false, !tb, m, k, n, g.Span, n, y.Span, y.Dim(1), da, k, acc);
            else Gemm.Multiply(tb, true, k, m, n, y.Span, y.Dim(1), g.Span, n, da, m, acc);
        }
        if (b.RequiresGrad)
        {
            var db = GradOf(b, out bool acc);
            // dB = op(A)ᵀ·dC, or its transpose when B is stored transposed.
            if (!tb) Gemm.Multiply(!ta, false, k, n, m, x.Span, x.Dim(1), g.Span, n, db, n, acc);
            else Gemm.Multiply(true, ta, n, k, m, g.Span, n, x.Span, x.Dim(1), db, k, acc);
        }
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

internal sealed class SoftmaxOp(Node x, bool log) : Node(log ? "log_softmax" : "softmax", x.Shape, x)
{
    internal Node Input => x;
    internal bool IsLog => log;

    protected internal override void Forward()
    {
        var v = x.Value;
        Value.Resize(v.ShapeSpan);
        int cols = v.Rank == 0 ? 1 : v.Dim(-1);
        int rows = v.Length / Math.Max(1, cols);
        if (log) Kernels.LogSoftmaxRows(v.Span, Value.Span, rows, cols);
        else Kernels.SoftmaxRows(v.Span, Value.Span, rows, cols);
    }

    protected internal override void Backprop()
    {
        var g = Grad.Span; var y = Value.Span;
        int cols = Value.Rank == 0 ? 1 : Value.Dim(-1);
        var dx = GradToAdd(x);
        for (int o = 0; o < g.Length; o += cols)
        {
            var gr = g.Slice(o, cols); var yr = y.Slice(o, cols); var dr = dx.Slice(o, cols);
            if (log)
            {
                // y = x - lse(x): dx = g - softmax(x)·Σg
                float sum = TensorPrimitives.Sum(gr);
                for (int j = 0; j < cols; j++) dr[j] += gr[j] - MathF.Exp(yr[j]) * sum;
            }
            else
            {
                // dx = y ⊙ (g - Σ g⊙y)
                float dot = TensorPrimitives.Dot(gr, yr);
                for (int j = 0; j < cols; j++) dr[j] += yr[j] * (gr[j] - dot);
            }
        }
    }
}

internal sealed class ReduceAllOp(Node x, bool mean) : Node(mean ? "mean" : "sum", [], x)
{
    protected internal override void Forward()
    {
        Value.Resize([]);
        var s = x.Value.Span;
        float sum = TensorPrimitives.Sum(s);
        Value.Span[0] = mean ? sum / Math.Max(1, s.Length) : sum;
    }

    protected internal override void Backprop()
    {
        var dx = GradToAdd(x);
        float g = Grad.Span[0];
        if (mean) g /= Math.Max(1, dx.Length);
        TensorPrimitives.Add(dx, g, dx);
    }
}

internal sealed class ReduceAxisOp : Node
{
    private readonly Node _x;
    private readonly int _axis;
    private readonly bool _mean;

    public ReduceAxisOp(Node x, int axis, bool mean) : base(mean ? "mean_axis" : "sum_axis", ShapeOf(x, axis), x)
    {
        _x = x; _axis = axis < 0 ? axis + 2 : axis; _mean = mean;
    }

    private static int[] ShapeOf(Node x, int axis)
    {
        if (x.Shape.Length != 2) throw new ArgumentException($"Sum/Mean over an axis needs a rank-2 tensor; received shape {Tensor.ShapeToString(x.Shape)}.");
        int a = axis < 0 ? axis + 2 : axis;
        if (a is not (0 or 1)) throw new ArgumentException($"Invalid value received for argument `axis`. Expected 0, 1 or -1. Received: axis={axis}.");
        return [x.Shape[1 - a]];
    }

    protected internal override void Forward()
    {
        var v = _x.Value;
        int rows = v.Dim(0), cols = v.Dim(1);
        if (_axis == 0)
        {
            Value.Resize([cols]);
            Kernels.ColumnSums(v.Span, rows, cols, Value.Span, false);
            if (_mean) TensorPrimitives.Multiply(Value.Span, 1f / Math.Max(1, rows), Value.Span);
        }
        else
        {
            Value.Resize([rows]);
            var o = Value.Span;
            for (int r = 0; r < rows; r++) o[r] = TensorPrimitives.Sum(v.Span.Slice(r * cols, cols)) / (_mean ? Math.Max(1, cols) : 1);
        }
    }

    protected internal override void Backprop()
    {
        var v = _x.Value;
        int rows = v.Dim(0), cols = v.Dim(1);
        var dx = GradToAdd(_x);
        var g = Grad.Span;
        for (int r = 0; r < rows; r++)
        {
            var dr = dx.Slice(r * cols, cols);
            if (_axis == 0) TensorPrimitives.MultiplyAdd(g, _mean ? 1f / rows : 1f, dr, dr);
            else TensorPrimitives.Add(dr, g[r] / (_mean ? cols : 1), dr);
        }
    }
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

/// <summary>y = f(x·W + b), the Dense layer fused: one GEMM, then bias and activation in one pass over its output.</summary>
internal sealed class DenseOp : Node
{
    private readonly Node _x, _w;
    private readonly Node? _b;
    private readonly ActivationFunction _f;

    public DenseOp(Node x, Node w, Node? b, ActivationFunction f)
        : base("dense", Ops.MatMulShape(x.Shape, w.Shape, false, false), b is null ? [x, w] : [x, w, b])
    {
        if (!f.IsElementwise) throw new ArgumentException($"Ops.Dense fuses elementwise activations only; apply {f.Name} as its own op.");
        if (b is not null && (b.Shape.Length != 1 || b.Shape[0] != w.Shape[1]))
            throw new ArgumentException($"Dense bias must have shape ({w.Shape[1]},); received {Tensor.ShapeToString(b.Shape)}.");
        _x = x; _w = w; _b = b; _f = f;
    }

    internal ActivationFunction Activation => _f;

    protected internal override void Forward()
    {
        Tensor x = _x.Value, w = _w.Value;
        int m = x.Dim(0), k = x.Dim(1), n = w.Dim(1);
        if (w.Dim(0) != k) throw new InvalidOperationException($"Dense `{Name}`: input has {k} features, kernel expects {w.Dim(0)}.");
        Value.Resize(m, n);
        Gemm.Multiply(false, false, m, n, k, x.Span, k, w.Span, n, Value.Span, n);
        if (_b is not null) Kernels.BiasActivation(Value.Span, m, n, _b.Value.Span, _f);
        else _f.ApplyInPlace(Value.Span);
    }

    protected internal override void Backprop()
    {
        Tensor x = _x.Value, w = _w.Value;
        int m = x.Dim(0), k = x.Dim(1), n = w.Dim(1);
        var dz = Grad.Span;                       // this node's gradient is ours alone: turn it into dL/dz in place
        _f.MultiplyByDerivative(Value.Span, dz);
        if (_x.RequiresGrad)                      // first, while W still holds the weights of the forward pass
        {
            var dx = GradOf(_x, out bool acc);
            Gemm.Multiply(false, true, m, k, n, dz, n, w.Span, n, dx, k, acc);   // dx = dz·Wᵀ
        }
        if (_b is not null && _b.RequiresGrad)
        {
            if (Optimizers.Optimizer.FusedUpdate(_b, out float f))
            {
                var bs = _b.Value.Span;                                       // b += f·Σ_rows dz
                for (int r = 0; r < m; r++) TensorPrimitives.MultiplyAdd(dz.Slice(r * n, n), f, bs, bs);
            }
            else
            {
                var db = GradOf(_b, out bool acc);
                Kernels.ColumnSums(dz, m, n, db, acc);  // db = Σ_rows dz
            }
        }
        if (_w.RequiresGrad)
        {
            if (Optimizers.Optimizer.FusedUpdate(_w, out float f))
                Gemm.Multiply(true, false, k, n, m, x.Span, k, dz, n, w.Span, n, accumulate: true, alpha: f);   // W += f·xᵀ·dz
            else
            {
                var dw = GradOf(_w, out bool acc);
                Gemm.Multiply(true, false, k, n, m, x.Span, k, dz, n, dw, n, acc);   // dW = xᵀ·dz
            }
        }
    }
}

/// <summary>Softmax and cross-entropy in one op: loss = mean_r -Σ_j t_rj·log softmax(z_r)_j; dz = (softmax(z) - t) / rows.</summary>
internal sealed class SoftmaxCrossEntropyOp : Node
{
    private readonly Node _z, _t;
    private readonly bool _sparse;
    private readonly Tensor _p = new(0);

    public SoftmaxCrossEntropyOp(Node logits, Node targets, bool sparse) : base(sparse ? "sparse_softmax_cross_entropy" : "softmax_cross_entropy", [], logits, targets)
    {
        if (logits.Shape.Length != 2) throw new ArgumentException($"Softmax cross-entropy needs logits of shape (batch, classes); received {Tensor.ShapeToString(logits.Shape)}.");
        if (sparse ? targets.Shape.Length != 1 : !SameShape(logits.Shape, targets.Shape))
            throw new ArgumentException($"Targets of shape {Tensor.ShapeToString(targets.Shape)} do not fit logits of shape {Tensor.ShapeToString(logits.Shape)}; {(sparse ? "expected class indices of shape (batch,)" : "expected one-hot rows of the same shape")}.");
        _z = logits; _t = targets; _sparse = sparse;
        RequiresGrad = logits.RequiresGrad;
    }

    internal static bool SameShape(int[] a, int[] b) => a.Length == b.Length && a.Zip(b).All(p => p.First == p.Second || p.First == -1 || p.Second == -1);

    /// <summary>softmax(logits) from the last forward pass.</summary>
    internal Tensor Probabilities => _p;

    protected internal override void Forward()
    {
        Tensor z = _z.Value, t = _t.Value;
        int rows = z.Dim(0), cols = z.Dim(1);
        if (_sparse ? t.Length != rows : t.Length != z.Length)
            throw new InvalidOperationException($"`{Name}`: {t.Length} targets for {rows} rows of {cols} logits.");
        _p.Resize(rows, cols);
        var p = _p.Span; var ts = t.Span; var zs = z.Span;
        double loss = 0;
        for (int r = 0; r < rows; r++)
        {
            var zr = zs.Slice(r * cols, cols);
            float lse = Kernels.SoftmaxRow(zr, p.Slice(r * cols, cols));   // p = softmax(z); lse = log Σ e^z
            if (_sparse)
            {
                int label = CheckLabel(ts[r], cols, r);
                loss += lse - zr[label];
            }
            else
            {
                var tr = ts.Slice(r * cols, cols);
                loss += lse * TensorPrimitives.Sum(tr) - TensorPrimitives.Dot(tr, zr);
            }
        }
        Value.Resize([]);
        Value.Span[0] = (float)(loss / Math.Max(1, rows));
    }

    internal static int CheckLabel(float value, int classes, int row)
    {
        int label = (int)value;
        if (label != value || label < 0 || label >= classes)
            throw new ArgumentOutOfRangeException("labels", $"Label {value} in row {row} is out of range: expected an integer class index in [0, {classes - 1}].");
        return label;
    }

    protected internal override void Backprop()
    {
        int rows = _p.Dim(0), cols = _p.Dim(1);
        float scale = Grad.Span[0] / Math.Max(1, rows);
        var dz = GradOf(_z, out bool acc);
        var p = _p.Span; var ts = _t.Value.Span;
        if (!acc) dz.Clear();
        for (int r = 0; r < rows; r++)
        {
            var dr = dz.Slice(r * cols, cols); var pr = p.Slice(r * cols, cols);
            if (_sparse)
            {
                TensorPrimitives.MultiplyAdd(pr, scale, dr, dr);
                dr[(int)ts[r]] -= scale;
            }
            else
            {
                // d/dz of (Σt)·lse - t·z = (Σt)·p - t
                var tr = ts.Slice(r * cols, cols);
                float tsum = TensorPrimitives.Sum(tr);
                for (int j = 0; j < cols; j++) dr[j] += scale * (tsum * pr[j] - tr[j]);
            }
        }
    }
}

/// <summary>Losses that are a sum of per-element terms f(p, t), divided by the batch size or the element count.</summary>
internal sealed class PointwiseLossOp : Node
{
    internal enum Kinds { CategoricalCrossEntropy, BinaryCrossEntropy, MeanSquaredError, Quadratic }

    private const float Epsilon = 1e-7f; // Keras's backend epsilon, used for clipping
    private readonly Kinds _kind;
    private readonly Node _p, _t;

    public PointwiseLossOp(Kinds kind, Node p, Node t) : base(kind.ToString().ToLowerInvariant(), [], p, t)
    {
        if (!SoftmaxCrossEntropyOp.SameShape(p.Shape, t.Shape))
            throw new ArgumentException($"Targets of shape {Tensor.ShapeToString(t.Shape)} do not match predictions of shape {Tensor.ShapeToString(p.Shape)}.");
        _kind = kind; _p = p; _t = t;
        RequiresGrad = p.RequiresGrad;
    }

    private float Divisor(Tensor p) => _kind is Kinds.CategoricalCrossEntropy or Kinds.Quadratic ? Math.Max(1, Rows(p)) : Math.Max(1, p.Length);

    protected internal override void Forward()
    {
        var p = _p.Value.Span; var t = _t.Value.Span;
        if (p.Length != t.Length) throw new InvalidOperationException($"`{Name}`: {t.Length} targets for {p.Length} predictions.");
        double sum = 0;
        for (int i = 0; i < p.Length; i++)
        {
            float pi = p[i], ti = t[i];
            sum += _kind switch
            {
                Kinds.CategoricalCrossEntropy => -ti * MathF.Log(Math.Clamp(pi, Epsilon, 1 - Epsilon)),
                Kinds.BinaryCrossEntropy => -(ti * MathF.Log(Math.Clamp(pi, Epsilon, 1 - Epsilon)) + (1 - ti) * MathF.Log(1 - Math.Clamp(pi, Epsilon, 1 - Epsilon))),
                Kinds.MeanSquaredError => (pi - ti) * (pi - ti),
                _ => 0.5f * (pi - ti) * (pi - ti),
            };
        }
        Value.Resize([]);
        Value.Span[0] = (float)(sum / Divisor(_p.Value));
    }

    protected internal override void Backprop()
    {
        var p = _p.Value.Span; var t = _t.Value.Span;
        float scale = Grad.Span[0] / Divisor(_p.Value);
        var dp = GradToAdd(_p);
        for (int i = 0; i < p.Length; i++)
        {
            float pi = p[i], ti = t[i];
            bool clipped = pi < Epsilon || pi > 1 - Epsilon;
            dp[i] += scale * _kind switch
            {
                Kinds.CategoricalCrossEntropy => clipped ? 0 : -ti / pi,
                Kinds.BinaryCrossEntropy => clipped ? 0 : (pi - ti) / (pi * (1 - pi)),
                Kinds.MeanSquaredError => 2 * (pi - ti),
                _ => pi - ti,
            };
        }
    }
}

/// <summary>Mean over the batch of -log p[label], p clipped to [1e-7, 1 - 1e-7]: sparse cross-entropy on probabilities.</summary>
internal sealed class SparseCategoricalCrossEntropyOp : Node
{
    private const float Epsilon = 1e-7f;
    private readonly Node _p, _labels;

    public SparseCategoricalCrossEntropyOp(Node p, Node labels) : base("sparse_categorical_crossentropy", [], p, labels)
    {
        if (p.Shape.Length != 2 || labels.Shape.Length != 1)
            throw new ArgumentException($"Sparse cross-entropy needs probabilities (batch, classes) and labels (batch,); received {Tensor.ShapeToString(p.Shape)} and {Tensor.ShapeToString(labels.Shape)}.");
        _p = p; _labels = labels;
        RequiresGrad = p.RequiresGrad;
    }

    protected internal override void Forward()
    {
        var p = _p.Value; var l = _labels.Value.Span;
        int rows = p.Dim(0), cols = p.Dim(1);
        if (l.Length != rows) throw new InvalidOperationException($"`{Name}`: {l.Length} labels for {rows} rows.");
        double loss = 0;
        for (int r = 0; r < rows; r++)
            loss -= MathF.Log(Math.Clamp(p.Span[r * cols + SoftmaxCrossEntropyOp.CheckLabel(l[r], cols, r)], Epsilon, 1 - Epsilon));
        Value.Resize([]);
        Value.Span[0] = (float)(loss / Math.Max(1, rows));
    }

    protected internal override void Backprop()
    {
        var p = _p.Value; var l = _labels.Value.Span;
        int rows = p.Dim(0), cols = p.Dim(1);
        float scale = Grad.Span[0] / Math.Max(1, rows);
        var dp = GradToAdd(_p);
        for (int r = 0; r < rows; r++)
        {
            int i = r * cols + (int)l[r];
            float pi = p.Span[i];
            if (pi >= Epsilon && pi <= 1 - Epsilon) dp[i] -= scale / pi;
        }
    }
}
