using System.CommandLine;
using System.Globalization;
using Dendrite.Optimizers.Schedules;

namespace Dendrite.Cli;

/// <summary>The options of `train` that make the learning rate follow a Keras schedule, counted in updates (steps).</summary>
internal sealed class ScheduleOptions
{
    public static readonly string[] Kinds = ["none", "exponential", "piecewise", "cosine"];

    public readonly Option<string> Schedule = new("--schedule") { Description = "Learning-rate schedule from --lr, per update: exponential (lr·rate^(step/decay-steps)), piecewise (--boundaries, --lr-values) or cosine (optional --warmup-steps from 0 up to --lr, then down to alpha·lr) (default: none)", DefaultValueFactory = _ => "none" };
    public readonly Option<int?> DecaySteps = new("--decay-steps") { Description = "Updates over which the rate decays (exponential: once by --decay-rate; default one epoch's updates. cosine: to alpha·lr; default all the run's updates after the warm-up)" };
    public readonly Option<float> DecayRate = new("--decay-rate") { Description = "Exponential: factor per --decay-steps updates (default 0.96)", DefaultValueFactory = _ => 0.96f };
    public readonly Option<bool> Staircase = new("--staircase") { Description = "Exponential: drop the rate in steps, once every --decay-steps updates (default off: smoothly)" };
    public readonly Option<string> Boundaries = new("--boundaries") { Description = "Piecewise: the updates after which the rate changes, increasing, comma-separated (e.g. 2000,4000)" };
    public readonly Option<string> LrValues = new("--lr-values") { Description = "Piecewise: the rates, one more than --boundaries (e.g. 0.1,0.01,0.001); --lr is not used" };
    public readonly Option<int> WarmupSteps = new("--warmup-steps") { Description = "Cosine: updates of linear warm-up from 0 to --lr (default 0: none)", DefaultValueFactory = _ => 0 };
    public readonly Option<float> Alpha = new("--alpha") { Description = "Cosine: the rate it ends at, as a fraction of --lr (default 0)", DefaultValueFactory = _ => 0f };

    public ScheduleOptions()
    {
        Checks.OneOf(Schedule, Kinds);
        Checks.AtLeast(DecaySteps, 1);
        Checks.Positive(DecayRate);
        Checks.AtLeast(WarmupSteps, 0);
        Checks.Between(Alpha, 0f, 1f);
        Checks.ReadBy(Boundaries, s => ParseList(s, "boundaries", v => int.Parse(v, NumberStyles.None, CultureInfo.InvariantCulture)));
        Checks.ReadBy(LrValues, s => ParseList(s, "values", v => float.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture)));
    }

    public IEnumerable<Option> All => [Schedule, DecaySteps, DecayRate, Staircase, Boundaries, LrValues, WarmupSteps, Alpha];

    /// <summary>The schedule asked for, or null. Checked before the data loads (<see cref="Check"/>).</summary>
    public string Kind(ParseResult r) => r.GetValue(Schedule) ?? "none";

    /// <summary>Refuses a setting the chosen schedule does not have, and a piecewise schedule without its lists, before any data loads.</summary>
    public void Check(ParseResult r)
    {
        string kind = Kind(r);
        bool Given(Option o) => r.GetResult(o) is { Implicit: false };
        void Only(Option o, params string[] takers)
        {
            if (Given(o) && !takers.Contains(kind))
                throw new ArgumentException($"{o.Name} is a setting of --schedule {string.Join(" and ", takers)}; {(kind == "none" ? "no --schedule was given" : $"--schedule {kind} does not take it")}.");
        }
        Only(DecaySteps, "exponential", "cosine"); Only(DecayRate, "exponential"); Only(Staircase, "exponential");
        Only(Boundaries, "piecewise"); Only(LrValues, "piecewise"); Only(WarmupSteps, "cosine"); Only(Alpha, "cosine");
        if (kind == "piecewise") Build(r, 0.1f, 1, 1);   // the lists' lengths and order
    }

    /// <summary>The schedule for a run of <paramref name="epochs"/> epochs of <paramref name="stepsPerEpoch"/> updates from rate <paramref name="lr"/>, or null for none.</summary>
    public LearningRateSchedule? Build(ParseResult r, float lr, int stepsPerEpoch, int epochs)
    {
        int warmup = r.GetValue(WarmupSteps);
        switch (Kind(r))
        {
            case "exponential":
                return new ExponentialDecay(lr, r.GetValue(DecaySteps) ?? Math.Max(1, stepsPerEpoch), r.GetValue(DecayRate), r.GetValue(Staircase));
            case "piecewise":
                var b = r.GetValue(Boundaries) is string bs ? ParseList(bs, "boundaries", v => int.Parse(v, NumberStyles.None, CultureInfo.InvariantCulture)) : throw new ArgumentException("--schedule piecewise needs --boundaries (the updates after which the rate changes) and --lr-values.");
                var v = r.GetValue(LrValues) is string vs ? ParseList(vs, "values", x => float.Parse(x, NumberStyles.Float, CultureInfo.InvariantCulture)) : throw new ArgumentException("--schedule piecewise needs --lr-values (the rates, one more than --boundaries).");
                try { return new PiecewiseConstantDecay(b, v); }
                catch (ArgumentException e) { throw new ArgumentException("--boundaries/--lr-values: " + Messages.ForUser(e)); }
            case "cosine":
                long total = (long)stepsPerEpoch * epochs - warmup;
                int decay = r.GetValue(DecaySteps) ?? (int)Math.Clamp(total, 1, int.MaxValue);
                return warmup > 0 ? new CosineDecay(0f, decay, r.GetValue(Alpha), lr, warmup) : new CosineDecay(lr, decay, r.GetValue(Alpha));
            default:
                return null;
        }
    }

    private static T[] ParseList<T>(string text, string kerasName, Func<string, T> parse)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var result = new T[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            try { result[i] = parse(parts[i]); }
            catch (Exception e) when (e is FormatException or OverflowException)
            {
                throw new ArgumentException($"Invalid value received for argument `{kerasName}`. Expected comma-separated {(typeof(T) == typeof(int) ? "whole numbers of updates" : "numbers")}. Received: {kerasName}={text}.");
            }
        }
        return result;
    }
}
