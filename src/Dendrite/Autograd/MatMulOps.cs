using System.Numerics.Tensors;

namespace Dendrite;

// Matrix products: MatMul, and Dense (the product with its bias and activation fused).
public static partial class Ops
{
    /// <summary>op(a)·op(b) for matrices; op transposes when asked.</summary>
    public static Node MatMul(Node a, Node b, bool transposeA = false, bool transposeB = false) => new MatMulOp(a, b, transposeA, transposeB);

    /// <summary>f(x·W + b) in one op: the Dense layer's work, with the bias and activation fused into the matmul's epilogue. f must be elementwise.</summary>
    public static Node Dense(Node x, Node kernel, Node? bias, ActivationFunction activation) => new DenseOp(x, kernel, bias, activation);

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
