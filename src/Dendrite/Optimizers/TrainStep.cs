namespace Dendrite.Optimizers;

/// <summary>
/// One training step of an optimizer on a loss, to run once per batch: forward, backward, then the update of every
/// trainable variable the loss depends on. It is TensorFlow's <c>train_step</c>; get it from
/// <see cref="Optimizer.Minimize"/> (which also runs it once when data has been fed) or <see cref="Optimizer.StepFor"/>.
/// </summary>
/// <example>
/// <code>
/// var trainStep = new SGD(0.5f).Minimize(loss);        // nothing is fed yet: this only builds the step
/// for (int i = 0; i &lt; 1000; i++)
/// {
///     var (images, labels) = batches.NextBatch(100);
///     trainStep.Run((x, images.Reshape(-1, 784)), (y, labels));   // sess.run(train_step, feed_dict={x: ..., y_: ...})
/// }
/// </code>
/// </example>
public sealed class TrainStep
{
    private readonly Variable[] _variables;
    private readonly Placeholder[] _placeholders;

    internal TrainStep(Optimizer optimizer, Node loss)
    {
        Optimizer = optimizer;
        Loss = loss;
        var order = loss.Order;
        _variables = order.OfType<Variable>().Where(v => v.Trainable).ToArray();
        _placeholders = order.OfType<Placeholder>().ToArray();
        // A variable read by a single op may have its update folded into that op's backward pass.
        Fusable = _variables.Where(v => order.Sum(n => n.Inputs.Count(i => ReferenceEquals(i, v))) == 1)
            .ToHashSet(ReferenceEqualityComparer.Instance as IEqualityComparer<Variable>)!;
    }

    public Optimizer Optimizer { get; }

    /// <summary>The loss this step minimizes. After a run its <c>Value</c> is the loss before that run's update.</summary>
    public Node Loss { get; }

    /// <summary>The trainable variables the step updates.</summary>
    public IReadOnlyList<Variable> Variables => _variables;

    internal HashSet<Variable> Fusable { get; }

    /// <summary>False while the loss reads placeholders of which none has been fed.</summary>
    internal bool HasData
    {
        get
        {
            if (_placeholders.Length == 0) return true;
            foreach (var p in _placeholders) if (p.IsFed) return true;
            return false;
        }
    }

    /// <summary>Runs one step on the values fed to the placeholders, and returns the loss (before the update).</summary>
    public float Run()
    {
        Optimizer.ApplySchedule();   // before the backward pass, which may fold the update in
        using (Optimizer.Fuse(Fusable)) Loss.Backward();
        Optimizer.Step(_variables);
        return Loss.Value.Span[0];
    }

    /// <summary>Feeds each placeholder its tensor, runs one step, and returns the loss (before the update): <c>trainStep.Run((x, images), (y, labels))</c>.</summary>
    public float Run(params ReadOnlySpan<(Placeholder Placeholder, Tensor Value)> feeds)
    {
        foreach (var (p, v) in feeds)
        {
            ArgumentNullException.ThrowIfNull(p);
            p.Feed(v);
        }
        return Run();
    }
}
