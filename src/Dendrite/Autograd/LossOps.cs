using System.Numerics.Tensors;

namespace Dendrite;

// Softmax, log-softmax and the losses, with softmax and cross-entropy fused where they meet.
public static partial class Ops
{
    /// <summary>Softmax over the last axis.</summary>
    public static Node Softmax(Node x) => new SoftmaxOp(x, log: false);

    /// <summary>log(softmax(x)) over the last axis, computed stably.</summary>
    public static Node LogSoftmax(Node x) => new SoftmaxOp(x, log: true);

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
