using System.Numerics.Tensors;

namespace Dendrite.Optimizers;

/// <summary>Updates variables from their gradients. <see cref="Minimize"/> is the TensorFlow tutorial's optimizer.minimize(loss).</summary>
public abstract class Optimizer
{
    private readonly Dictionary<Node, TrainStep> _steps = new(ReferenceEqualityComparer.Instance);
    [ThreadStatic] private static Optimizer? t_fusing;
    [ThreadStatic] private static HashSet<Variable>? t_fusable;
    private float _learningRate;

    protected Optimizer(float learningRate) => LearningRate = learningRate;

    public float LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value > 0) || float.IsInfinity(value))
                throw new ArgumentOutOfRangeException(nameof(LearningRate), value, $"Invalid value received for argument `learning_rate`. Expected a positive finite number. Received: learning_rate={value}.");
            _learningRate = value;
        }
    }

    /// <summary>Updates applied so far.</summary>
    public long Iterations { get; protected set; }

    private Schedules.LearningRateSchedule? _schedule;

    /// <summary>
    /// Keras's <c>learning_rate=schedule</c>: when set, the optimizer takes its <see cref="LearningRate"/> from
    /// <c>Schedule.At(Iterations)</c> before every update (<c>new SGD(momentum: 0.9f) { Schedule = new ExponentialDecay(0.1f, 1000, 0.96f) }</c>).
    /// The model file keeps it. Null (the default): the learning rate stays as set.
    /// </summary>
    public Schedules.LearningRateSchedule? Schedule
    {
        get => _schedule;
        set { _schedule = value; ApplySchedule(); }
    }

    /// <summary>Sets the learning rate from the schedule for the next update (a schedule may reach 0, which the setter refuses).</summary>
    internal void ApplySchedule()
    {
        if (_schedule is { } s) _learningRate = s.At(Iterations);
    }

    public abstract string Name { get; }

    /// <summary>
    /// The training step for <paramref name="loss"/> (TensorFlow's <c>train_step = optimizer.minimize(loss)</c>), run
    /// once now on the data fed so far, and returned to be run again per batch with <see cref="TrainStep.Run()"/>.
    /// </summary>
    /// <remarks>
    /// <para>Both forms work, and neither trains where the other would not:</para>
    /// <list type="bullet">
    /// <item>In a loop, <c>x.Feed(images); y.Feed(labels); sgd.Minimize(loss);</c> runs one step per call, as it always has.</item>
    /// <item>
    /// Built up front, as the tutorial does, <c>var trainStep = sgd.Minimize(loss);</c> comes before anything is fed:
    /// with no data to train on it runs nothing and only returns the step. Then <c>trainStep.Run()</c> (or
    /// <c>trainStep.Run((x, images), (y, labels))</c>) runs one step per batch.
    /// </item>
    /// </list>
    /// <para>
    /// The rule: <c>Minimize</c> runs a step unless <paramref name="loss"/> reads placeholders and none of them has
    /// been fed yet (one fed and another not is an error naming the one). A loss of variables and constants alone
    /// always has its data, so every call trains; to get its step without running it, use <see cref="StepFor"/>.
    /// The step is made once per loss: every call returns the same one, and runs allocate nothing.
    /// </para>
    /// <para>
    /// A step is forward, backward, then an update of every trainable variable the loss depends on. Where the
    /// optimizer allows it (<see cref="SGD"/> without momentum), a variable used by a single op is updated by that op
    /// as its gradient is computed (w += -lr·xᵀ·dz in one GEMM), and its Grad is not written.
    /// </para>
    /// </remarks>
    public TrainStep Minimize(Node loss)
    {
        var step = StepFor(loss);
        if (step.HasData) step.Run();
        return step;
    }

    /// <summary>The training step for <paramref name="loss"/>, without running it (see <see cref="Minimize"/>). Made once per loss.</summary>
    public TrainStep StepFor(Node loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        if (!_steps.TryGetValue(loss, out var step)) _steps[loss] = step = new TrainStep(this, loss);
        return step;
    }

    /// <summary>While the scope lives, ops on this thread may fold this optimizer's update of <paramref name="fusable"/> into their backward pass.</summary>
    internal FuseScope Fuse(HashSet<Variable> fusable)
    {
        t_fusing = this;
        t_fusable = fusable;
        return default;
    }

    internal readonly ref struct FuseScope
    {
        public void Dispose() { t_fusing = null; t_fusable = null; }
    }

    /// <summary>The variables <see cref="Minimize"/> would update in place for <paramref name="loss"/>.</summary>
    internal HashSet<Variable> FusableFor(Node loss) => StepFor(loss).Fusable;

    /// <summary>
    /// Inside <see cref="Minimize"/>: true when <paramref name="node"/>'s update may be done by the op computing its
    /// gradient, as w += <paramref name="factor"/>·g.
    /// </summary>
    internal static bool FusedUpdate(Node node, out float factor)
    {
        factor = 0;
        return node is Variable v && t_fusing is { } opt && t_fusable!.Contains(v) && !opt.ChangesGradients && opt.CanFuse(out factor);
    }

    /// <summary>True when an update is w += factor·g with nothing else to track (plain SGD).</summary>
    protected virtual bool CanFuse(out float factor)
    {
        factor = 0;
        return false;
    }

    /// <summary>Updates each variable that received a gradient in the last backward pass.</summary>
    /// <remarks>
    /// As Keras: the learning rate is read off the schedule (if any), the gradients are clipped (<see cref="ClipNorm"/>, <see cref="ClipValue"/> or
    /// <see cref="GlobalClipNorm"/>, in place in each variable's Grad), then each weight decays (w -= lr·wd·w, with
    /// <see cref="WeightDecay"/>), then the optimizer's own update runs.
    /// </remarks>
    public void Step(IReadOnlyList<Variable> variables)
    {
        ApplySchedule();                                      // the learning rate of this step first
        if (ChangesGradients) Clipping.Clip(this, variables);
        float decay = LearningRate * WeightDecay;
        for (int i = 0; i < variables.Count; i++)
        {
            var v = variables[i];
            if (!v.Trainable || !v.GradWritten) continue;
            if (decay != 0) TensorPrimitives.MultiplyAdd(v.Value.Span, -decay, v.Value.Span, v.Value.Span);
            Update(v, v.Value.Span, v.Grad.Span);
        }
        Iterations++;
    }

    /// <summary>
    /// The names of the state the optimizer keeps per trainable weight, each a tensor of the weight's shape (SGD with
    /// momentum: "velocity"; Adam would keep "m" and "v"). Checkpoints store them as "optimizer/&lt;weight&gt;/&lt;slot&gt;"
    /// and loading matches each to exactly one weight; the memory estimate counts one weight's size per slot.
    /// </summary>
    public virtual IReadOnlyList<string> SlotNames => [];

    /// <summary>Per-variable state kept by <see cref="SlotFor"/>, one store per name in <see cref="SlotNames"/> (every optimizer keeps its state here).</summary>
    private readonly Dictionary<string, Dictionary<Variable, float[]>> _slots = new(StringComparer.Ordinal);

    /// <summary>The optimizer's per-variable state (for checkpoints): variable, slot name, values.</summary>
    internal IEnumerable<(Variable Variable, string Slot, Tensor Values)> Slots() =>
        _slots.SelectMany(s => s.Value.Select(kv => (kv.Key, s.Key, new Tensor((float[])kv.Value.Clone(), kv.Key.Value.Shape))));

    /// <summary>Restores one slot from a checkpoint.</summary>
    internal void SetSlot(Variable v, string slot, Tensor values)
    {
        if (!SlotNames.Contains(slot)) throw new Data.InvalidDataFormatException($"{Name} keeps no state named `{slot}`.");
        if (!_slots.TryGetValue(slot, out var store)) _slots[slot] = store = new(ReferenceEqualityComparer.Instance);
        store[v] = values.ToArray();
    }

    /// <summary>The state named <paramref name="slot"/> of <paramref name="v"/>, made (filled with <paramref name="initial"/>) on its first use only.</summary>
    protected float[] SlotFor(Variable v, string slot, float initial = 0)
    {
        if (!_slots.TryGetValue(slot, out var store)) _slots[slot] = store = new(ReferenceEqualityComparer.Instance);
        if (!store.TryGetValue(v, out var values))
        {
            store[v] = values = new float[v.Value.Length];
            if (initial != 0) Array.Fill(values, initial);
        }
        return values;
    }

    /// <summary>Checks a Keras argument that must lie in [<paramref name="min"/>, <paramref name="max"/>) (or ≤ max when <paramref name="maxIncluded"/>).</summary>
    protected static float Checked(float value, string kerasName, float min, float max, bool maxIncluded = false)
    {
        if (!(value >= min && (maxIncluded ? value <= max : value < max)))
            throw new ArgumentOutOfRangeException(kerasName, value, $"Invalid value received for argument `{kerasName}`. Expected a number in [{min}, {max}{(maxIncluded ? "]" : ")")}. Received: {kerasName}={value}.");
        return value;
    }

    internal void RestoreIterations(long iterations)
    {
        Iterations = iterations;
        ApplySchedule();
    }

    private float? _clipNorm, _clipValue, _globalClipNorm;
    private float _weightDecay;

    /// <summary>Keras's clipnorm: each variable's gradient is scaled so its L2 norm is at most this (g·c/max(‖g‖, c)). Null: off.</summary>
    public float? ClipNorm { get => _clipNorm; set => _clipNorm = Clipping.Checked(this, value, "clipnorm"); }

    /// <summary>Keras's clipvalue: each gradient element is clipped to [-c, c]. Null: off.</summary>
    public float? ClipValue { get => _clipValue; set => _clipValue = Clipping.Checked(this, value, "clipvalue"); }

    /// <summary>Keras's global_clipnorm: all gradients are scaled together so their joint L2 norm is at most this. Null: off.</summary>
    public float? GlobalClipNorm { get => _globalClipNorm; set => _globalClipNorm = Clipping.Checked(this, value, "global_clipnorm"); }

    /// <summary>
    /// Keras's weight_decay, decoupled from the gradient (Loshchilov and Hutter): before each update w -= lr·wd·w.
    /// 0 (off) for every optimizer but <see cref="AdamW"/> (0.004).
    /// </summary>
    public float WeightDecay
    {
        get => _weightDecay;
        set
        {
            if (!(value >= 0) || float.IsInfinity(value))
                throw new ArgumentOutOfRangeException(nameof(WeightDecay), value, $"Invalid value received for argument `weight_decay`. Expected a finite number ≥ 0. Received: weight_decay={value}.");
            _weightDecay = value;
        }
    }

    /// <summary>True when the update is more than the optimizer's rule on the raw gradient (clipping or weight decay): no update is fused then.</summary>
    internal bool ChangesGradients => _clipNorm is not null || _clipValue is not null || _globalClipNorm is not null || _weightDecay != 0;

    /// <summary>The settings every optimizer shares (weight_decay, clipnorm, clipvalue, global_clipnorm) that are on and not already in <see cref="GetConfig"/>.</summary>
    public IReadOnlyList<(string Name, object Value)> GetSharedConfig()
    {
        var c = new List<(string, object)>();
        if (_weightDecay != 0 && !GetConfig().Any(s => s.Name == "weight_decay")) c.Add(("weight_decay", _weightDecay));
        if (_clipNorm is float n) c.Add(("clipnorm", n));
        if (_clipValue is float v) c.Add(("clipvalue", v));
        if (_globalClipNorm is float g) c.Add(("global_clipnorm", g));
        return c;
    }

    /// <summary>Applies one update to <paramref name="w"/> from its gradient <paramref name="g"/>.</summary>
    protected abstract void Update(Variable v, Span<float> w, ReadOnlySpan<float> g);

    /// <summary>
    /// The settings that make this optimizer, by Keras's names (learning_rate, momentum, beta_1, ...): what the model
    /// file keeps and <see cref="FromConfig"/> reads back. Numbers are floats, switches are bools.
    /// </summary>
    public abstract IReadOnlyList<(string Name, object Value)> GetConfig();

    /// <summary>The optimizer of Keras class <paramref name="className"/> with the settings <paramref name="setting"/> reads by name (null: absent, so the default).</summary>
    internal static Optimizer FromConfig(string className, Func<string, bool, object?> setting)
    {
        float F(string name, float fallback) => setting(name, false) is float f ? f : fallback;
        bool B(string name) => setting(name, true) is true;
        var opt = OwnFromConfig(className, F, B);
        if (setting("weight_decay", false) is float wd) opt.WeightDecay = wd;
        opt.ClipNorm = setting("clipnorm", false) as float?;
        opt.ClipValue = setting("clipvalue", false) as float?;
        opt.GlobalClipNorm = setting("global_clipnorm", false) as float?;
        return opt;
    }

    private static Optimizer OwnFromConfig(string className, Func<string, float, float> F, Func<string, bool> B)
    {
        return className switch
        {
            "AdamW" => new AdamW(F("learning_rate", 0.001f), F("weight_decay", 0.004f), F("beta_1", 0.9f), F("beta_2", 0.999f), F("epsilon", 1e-7f), B("amsgrad")),
            "SGD" => new SGD(F("learning_rate", 0.01f), F("momentum", 0f), B("nesterov")),
            "Adam" => new Adam(F("learning_rate", 0.001f), F("beta_1", 0.9f), F("beta_2", 0.999f), F("epsilon", 1e-7f), B("amsgrad")),
            "RMSprop" => new RMSprop(F("learning_rate", 0.001f), F("rho", 0.9f), F("momentum", 0f), F("epsilon", 1e-7f)),
            "Adagrad" => new Adagrad(F("learning_rate", 0.001f), F("initial_accumulator_value", 0.1f), F("epsilon", 1e-7f)),
            "Adadelta" => new Adadelta(F("learning_rate", 0.001f), F("rho", 0.95f), F("epsilon", 1e-7f)),
            _ => throw new ArgumentException($"unknown optimizer class `{className}`; known: {string.Join(", ", KnownClasses)}"),
        };
    }

    /// <summary>The Keras class names <see cref="FromConfig"/> knows.</summary>
    public static IReadOnlyList<string> KnownClasses { get; } = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"];

    /// <summary>Keras's optimizer names as strings, with their defaults: "sgd" (learning rate 0.01), "adam" (0.001).</summary>
    public static implicit operator Optimizer(string name) => name.ToLowerInvariant() switch
    {
        "sgd" => new SGD(),
        "adam" => new Adam(),
        "adamw" => new AdamW(),
        "rmsprop" => new RMSprop(),
        "adagrad" => new Adagrad(),
        "adadelta" => new Adadelta(),
        _ => throw new ArgumentException($"Invalid value received for argument `optimizer`. Expected one of sgd, adam, rmsprop, adagrad, adadelta, adamw. Received: optimizer={name}."),
    };

    /// <summary>As Keras prints an optimizer: its class and settings.</summary>
    public override string ToString() =>
        $"{Name}({string.Join(", ", GetConfig().Concat(GetSharedConfig()).Select(c => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{c.Name}={c.Value}")))})";
}

/// <summary>
/// Mini-batch stochastic gradient descent, as Keras defines it: without momentum w -= lr·g;
/// with momentum m, v = m·v - lr·g and w += v; with Nesterov, w += m·v - lr·g.
/// </summary>
public sealed class SGD : Optimizer
{
    public SGD(float learningRate = 0.01f, float momentum = 0f, bool nesterov = false) : base(learningRate)
    {
        if (!(momentum >= 0 && momentum < 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"Invalid value received for argument `momentum`. Expected a number in [0, 1). Received: momentum={momentum}.");
        Momentum = momentum;
        Nesterov = nesterov;
    }

    public float Momentum { get; }
    public bool Nesterov { get; }
    public override string Name => "SGD";

    /// <summary>Fold the update into the gradient GEMM when there is no momentum (on by default; the result is the same update).</summary>
    public bool FuseUpdates { get; set; } = true;

    public override IReadOnlyList<string> SlotNames => Momentum == 0 ? [] : ["velocity"];

    public override IReadOnlyList<(string Name, object Value)> GetConfig() =>
        [("learning_rate", LearningRate), ("momentum", Momentum), ("nesterov", Nesterov)];

    protected override bool CanFuse(out float factor)
    {
        factor = -LearningRate;
        return FuseUpdates && Momentum == 0;
    }

    protected override void Update(Variable v, Span<float> w, ReadOnlySpan<float> g)
    {
        float lr = LearningRate;
        if (Momentum == 0)
        {
            TensorPrimitives.MultiplyAdd(g, -lr, w, w);
            return;
        }
        var vs = SlotFor(v, "velocity").AsSpan(0, w.Length);
        float m = Momentum;
        for (int i = 0; i < w.Length; i++)
        {
            float nv = m * vs[i] - lr * g[i];
            vs[i] = nv;
            w[i] += Nesterov ? m * nv - lr * g[i] : nv;
        }
    }
}
