namespace Dendrite.Optimizers.Schedules;

/// <summary>
/// Keras's keras.optimizers.schedules.LearningRateSchedule: the learning rate as a function of the optimizer's
/// <see cref="Optimizer.Iterations"/> (the updates applied before the one about to run). Give one to any optimizer
/// as its <see cref="Optimizer.Schedule"/> (<c>new Adam { Schedule = new CosineDecay(1e-3f, 10_000) }</c>); the
/// optimizer then takes its learning rate from it before every update, and the model file keeps it, so a resumed run
/// continues on the same curve.
/// </summary>
public abstract class LearningRateSchedule
{
    /// <summary>The learning rate for the update that follows <paramref name="step"/> updates (Keras's <c>schedule(step)</c>).</summary>
    public abstract float At(long step);

    /// <summary>The Keras class name (ExponentialDecay, ...).</summary>
    public abstract string Name { get; }

    /// <summary>The settings that make this schedule, by Keras's names: floats, bools, ints, float[] and int[].</summary>
    public abstract IReadOnlyList<(string Name, object Value)> GetConfig();

    /// <summary>The Keras class names <see cref="FromConfig"/> knows.</summary>
    public static IReadOnlyList<string> KnownClasses { get; } = ["ExponentialDecay", "PiecewiseConstantDecay", "CosineDecay"];

    /// <summary>
    /// The schedule of Keras class <paramref name="className"/> from the settings <paramref name="setting"/> reads by
    /// name and type (float, bool, int, float[], int[]; null: absent, so the default).
    /// </summary>
    internal static LearningRateSchedule FromConfig(string className, Func<string, Type, object?> setting)
    {
        float F(string name) => setting(name, typeof(float)) as float? ?? throw Missing(name);
        int I(string name) => setting(name, typeof(int)) as int? ?? throw Missing(name);
        ArgumentException Missing(string name) => new($"{className} needs `{name}`");
        return className switch
        {
            "ExponentialDecay" => new ExponentialDecay(F("initial_learning_rate"), I("decay_steps"), F("decay_rate"), setting("staircase", typeof(bool)) is true),
            "PiecewiseConstantDecay" => new PiecewiseConstantDecay(setting("boundaries", typeof(int[])) as int[] ?? throw Missing("boundaries"), setting("values", typeof(float[])) as float[] ?? throw Missing("values")),
            "CosineDecay" => new CosineDecay(F("initial_learning_rate"), I("decay_steps"), setting("alpha", typeof(float)) as float? ?? 0f,
                setting("warmup_target", typeof(float)) as float?, setting("warmup_steps", typeof(int)) as int? ?? 0),
            _ => throw new ArgumentException($"unknown learning-rate schedule `{className}`; known: {string.Join(", ", KnownClasses)}"),
        };
    }

    /// <summary>Checks a learning rate a schedule starts from or reaches: finite and not negative.</summary>
    protected static float Rate(float value, string kerasName) =>
        value >= 0 && float.IsFinite(value) ? value
        : throw new ArgumentOutOfRangeException(kerasName, value, $"Invalid value received for argument `{kerasName}`. Expected a non-negative finite number. Received: {kerasName}={value}.");

    /// <summary>Checks a number of steps: positive (or non-negative with <paramref name="zeroAllowed"/>).</summary>
    protected static int Steps(int value, string kerasName, bool zeroAllowed = false) =>
        value > 0 || (zeroAllowed && value == 0) ? value
        : throw new ArgumentOutOfRangeException(kerasName, value, $"Invalid value received for argument `{kerasName}`. Expected a {(zeroAllowed ? "non-negative" : "positive")} integer. Received: {kerasName}={value}.");

    /// <summary>As Keras prints a schedule: its class and settings.</summary>
    public override string ToString() =>
        $"{Name}({string.Join(", ", GetConfig().Select(c => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{c.Name}={Show(c.Value)}")))})";

    private static string Show(object v) => v switch
    {
        float[] f => "[" + string.Join(", ", f.Select(x => x.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]",
        int[] i => "[" + string.Join(", ", i) + "]",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };
}
