namespace Dendrite;

/// <summary>
/// A value in a computation graph: a variable, a placeholder, a constant, or an op over other nodes.
/// Graphs are built once and run many times (define, then run), as in the TensorFlow tutorial:
/// <see cref="Evaluate"/> runs the forward pass of everything the node depends on, and
/// <see cref="Backward"/> runs forward, then reverse-mode differentiation, leaving d(this)/d(v) in
/// <c>v.Grad</c> for every node v that needs a gradient. Every op owns its output and gradient buffers
/// and reuses them from one run to the next, so a training step allocates nothing.
/// </summary>
/// <remarks>Shapes use -1 for the batch dimension, which is only known when data is fed.</remarks>
public abstract class Node
{
    private static int s_counter;
    private Node[]? _order;
    private Tensor? _grad;

    protected Node(string name, int[] shape, params Node[] inputs) : this(name, true, shape, inputs) { }

    /// <summary>With <paramref name="unique"/> false the name is kept as given (a layer's weights are named "dense/kernel" in model files).</summary>
    protected Node(string name, bool unique, int[] shape, params Node[] inputs)
    {
        Name = unique ? $"{name}_{Interlocked.Increment(ref s_counter)}" : name;
        Shape = shape;
        Inputs = inputs;
        RequiresGrad = inputs.Any(i => i.RequiresGrad);
    }

    /// <summary>A unique, readable name.</summary>
    public string Name { get; }

    /// <summary>The static shape; -1 marks the batch dimension.</summary>
    public int[] Shape { get; }

    public IReadOnlyList<Node> Inputs { get; }

    /// <summary>True when a gradient must flow to this node (a trainable variable is upstream).</summary>
    public bool RequiresGrad { get; protected init; }

    /// <summary>The value computed by the last forward pass.</summary>
    public Tensor Value { get; protected set; } = new(0);

    /// <summary>The gradient of the last <see cref="Backward"/>'s root with respect to this node; same shape as <see cref="Value"/>.</summary>
    public Tensor Grad => _grad ??= new Tensor(0);

    /// <summary>Set when this node's gradient buffer holds this pass's gradient (later contributions add to it).</summary>
    internal bool GradWritten { get; set; }

    /// <summary>Computes <see cref="Value"/> from the inputs' values.</summary>
    protected internal abstract void Forward();

    /// <summary>Adds this node's contribution to each input's gradient, from <see cref="Grad"/>.</summary>
    protected internal abstract void Backprop();

    /// <summary>This node and everything it depends on, inputs before the nodes that use them.</summary>
    internal Node[] Order => _order ??= TopologicalOrder();

    /// <summary>Runs the forward pass and returns the value.</summary>
    public Tensor Evaluate()
    {
        foreach (var n in Order) n.Forward();
        return Value;
    }

    /// <summary>
    /// Runs the forward pass, then fills <c>Grad</c> of every node that needs one with the gradient of
    /// this node, which must be a scalar (a loss).
    /// </summary>
    public void Backward()
    {
        Evaluate();
        if (Value.Length != 1)
            throw new InvalidOperationException($"Backward() needs a scalar, such as a loss; `{Name}` has shape {Tensor.ShapeToString(Value.ShapeSpan)}.");
        var order = Order;
        foreach (var n in order) n.GradWritten = false;
        Grad.Resize(Value.ShapeSpan);
        Grad.Span[0] = 1f;
        GradWritten = true;
        for (int i = order.Length - 1; i >= 0; i--)
        {
            var n = order[i];
            if (n.GradWritten && n.RequiresGrad && n.Inputs.Count > 0) n.Backprop();
        }
    }

    /// <summary>The gradient buffer of <paramref name="input"/>, sized like its value; <paramref name="accumulate"/> says whether another consumer already wrote it this pass.</summary>
    protected static Span<float> GradOf(Node input, out bool accumulate)
    {
        var g = input.Grad;
        accumulate = input.GradWritten;
        if (!accumulate) g.Resize(input.Value.ShapeSpan);
        input.GradWritten = true;
        return g.Span;
    }

    /// <summary>Like <see cref="GradOf"/>, but zeroed when first written, for ops that only ever add.</summary>
    protected static Span<float> GradToAdd(Node input)
    {
        var g = GradOf(input, out bool accumulate);
        if (!accumulate) g.Clear();
        return g;
    }

    /// <summary>Rows of a batch tensor (its first dimension), or 1 for a scalar.</summary>
    protected static int Rows(Tensor t) => t.Rank == 0 ? 1 : t.Dim(0);

    private Node[] TopologicalOrder()
    {
        var order = new List<Node>();
        var state = new Dictionary<Node, bool>(ReferenceEqualityComparer.Instance); // false: on stack, true: done
        var stack = new Stack<(Node node, int next)>();
        stack.Push((this, 0));
        state[this] = false;
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            if (next < node.Inputs.Count)
            {
                stack.Push((node, next + 1));
                var child = node.Inputs[next];
                if (!state.TryGetValue(child, out bool done))
                {
                    state[child] = false;
                    stack.Push((child, 0));
                }
                else if (!done) throw new InvalidOperationException("The graph has a cycle.");
            }
            else
            {
                state[node] = true;
                order.Add(node);
            }
        }
        return order.ToArray();
    }

    public override string ToString() => $"{Name}{Tensor.ShapeToString(Shape)}";

    public static Node operator +(Node a, Node b) => Ops.Add(a, b);
    public static Node operator -(Node a, Node b) => Ops.Subtract(a, b);
    public static Node operator *(Node a, Node b) => Ops.Multiply(a, b);
    public static Node operator -(Node a) => Ops.Scale(a, -1f);
    public static Node operator *(Node a, float s) => Ops.Scale(a, s);
    public static Node operator *(float s, Node a) => Ops.Scale(a, s);
    public static Node operator +(Node a, float s) => Ops.Add(a, new Constant(Tensor.Scalar(s)));
    public static Node operator -(Node a, float s) => Ops.Add(a, new Constant(Tensor.Scalar(-s)));
}

/// <summary>A trainable tensor (a weight or a bias). Optimizers update <see cref="Node.Value"/> in place from <see cref="Node.Grad"/>.</summary>
public sealed class Variable : Node
{
    /// <summary>A variable holding <paramref name="value"/> (not copied). A given name is kept exactly; without one it gets a unique "variable_N".</summary>
    public Variable(Tensor value, string? name = null, bool trainable = true) : base(name ?? "variable", name is null, value.Shape)
    {
        Value = value;
        Trainable = trainable;
        RequiresGrad = trainable;
    }

    /// <summary>A variable of the given shape filled by an initializer (glorot_uniform unless given).</summary>
    public Variable(int[] shape, Initializer? initializer = null, Rng? rng = null, string? name = null)
        : this(Initializer.Resolve(initializer, Initializer.GlorotUniform).Create(shape, rng ?? Rng.FromClock()), name) { }

    public bool Trainable { get; }

    /// <summary>Makes this variable hold <paramref name="value"/> itself (not a copy): a predictor's replica reads the model's own weights.</summary>
    internal void Share(Tensor value)
    {
        if (!value.ShapeSpan.SequenceEqual(Value.ShapeSpan)) throw new ArgumentException($"Variable `{Name}` has shape {Tensor.ShapeToString(Value.ShapeSpan)}; received {Tensor.ShapeToString(value.ShapeSpan)}.", nameof(value));
        Value = value;
    }

    protected internal override void Forward() { }
    protected internal override void Backprop() { }
}

/// <summary>
/// Data fed at run time (the TensorFlow tutorial's placeholder): its shape's -1 dimension takes the
/// batch size of whatever is fed. <see cref="Feed"/> checks the other dimensions.
/// </summary>
public sealed class Placeholder : Node
{
    /// <summary>A placeholder for batches of items of shape <paramref name="itemShape"/>: the full shape is (-1, itemShape...).</summary>
    public Placeholder(params int[] itemShape) : this("placeholder", [-1, .. itemShape]) { }

    public Placeholder(string name, int[] shape) : base(name, shape)
    {
        if (shape.Count(d => d == -1) > 1) throw new ArgumentException($"A placeholder may have one unknown (-1) dimension; got {Tensor.ShapeToString(shape)}.");
    }

    /// <summary>Sets the value for the next run. The tensor is used as is, not copied.</summary>
    public void Feed(Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var s = value.ShapeSpan;
        bool ok = s.Length == Shape.Length;
        for (int i = 0; ok && i < s.Length; i++) ok = Shape[i] == -1 || Shape[i] == s[i];
        if (!ok) throw new ArgumentException($"Placeholder `{Name}` expects shape {Tensor.ShapeToString(Shape)}; received a tensor of shape {Tensor.ShapeToString(s)}.");
        Value = value;
        IsFed = true;
    }

    /// <summary>True once a value has been fed.</summary>
    public bool IsFed { get; private set; }

    protected internal override void Forward()
    {
        if (!IsFed) throw new InvalidOperationException($"Placeholder `{Name}` of shape {Tensor.ShapeToString(Shape)} has not been fed: call Feed(tensor) on it before running the graph.");
    }

    protected internal override void Backprop() { }
}

/// <summary>A fixed tensor that needs no gradient.</summary>
public sealed class Constant : Node
{
    public Constant(Tensor value, string name = "constant") : base(name, value.Shape) => Value = value;

    protected internal override void Forward() { }
    protected internal override void Backprop() { }
}
