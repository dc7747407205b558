using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace Dendrite.Cli;

/// <summary>
/// Checks on the command line, done while it is parsed, so that a wrong number stops a command before it loads data
/// or trains: every numeric option reads its value in plain words (no .NET type names in the message), and an option
/// given a range (<see cref="AtLeast{T}"/>, <see cref="Between{T}"/>) rejects values outside it. Messages follow
/// Keras: the option, what was expected, what was received.
/// </summary>
internal static class Checks
{
    /// <summary>Gives every numeric option of <paramref name="command"/> and its subcommands a parser with plain messages.</summary>
    public static void ParseNumbersPlainly(Command command)
    {
        foreach (var o in command.Options)
        {
            switch (o)
            {
                case Option<int> i when i.CustomParser is null: i.CustomParser = r => Number<int>(r, "an integer", NumberStyles.Integer); break;
                case Option<int?> i when i.CustomParser is null: i.CustomParser = r => Number<int>(r, "an integer", NumberStyles.Integer); break;
                case Option<long> i when i.CustomParser is null: i.CustomParser = r => Number<long>(r, "an integer", NumberStyles.Integer); break;
                case Option<ulong> u when u.CustomParser is null: u.CustomParser = r => Number<ulong>(r, $"a whole number from 0 to {ulong.MaxValue}", NumberStyles.None); break;
                case Option<ulong?> u when u.CustomParser is null: u.CustomParser = r => Number<ulong>(r, $"a whole number from 0 to {ulong.MaxValue}", NumberStyles.None); break;
                case Option<float> f when f.CustomParser is null: f.CustomParser = r => Number<float>(r, "a number", NumberStyles.Float); break;
                case Option<float?> f when f.CustomParser is null: f.CustomParser = r => Number<float>(r, "a number", NumberStyles.Float); break;
                case Option<double> d when d.CustomParser is null: d.CustomParser = r => Number<double>(r, "a number", NumberStyles.Float); break;
            }
        }
        foreach (var sub in command.Subcommands) ParseNumbersPlainly(sub);
    }

    private static T Number<T>(ArgumentResult r, string expected, NumberStyles styles) where T : struct, INumber<T>
    {
        string text = r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";
        if (T.TryParse(text, styles, CultureInfo.InvariantCulture, out var value) && (value is not float f || float.IsFinite(f)) && (value is not double d || double.IsFinite(d)))
            return value;
        r.AddError($"Invalid value received for option {OptionName(r)}. Expected {expected}. Received: {(text.Length == 0 ? "nothing" : text)}.");
        return default;
    }

    /// <summary>Rejects values below <paramref name="min"/> (for example --epochs 0, a negative --batch-size).</summary>
    public static void AtLeast<T>(Option<T> option, T min) where T : struct, INumber<T> =>
        Add(option, v => v >= min, min == T.One ? "a positive integer" : $"a number of at least {min}");

    /// <summary>Rejects values outside [<paramref name="min"/>, <paramref name="max"/>] (or [min, max) with <paramref name="maxExcluded"/>; (min, ...] with <paramref name="minExcluded"/>).</summary>
    public static void Between<T>(Option<T> option, T min, T max, bool minExcluded = false, bool maxExcluded = false) where T : struct, INumber<T> =>
        Add(option, v => (minExcluded ? v > min : v >= min) && (maxExcluded ? v < max : v <= max),
            $"a number in {(minExcluded ? '(' : '[')}{Invariant(min)}, {Invariant(max)}{(maxExcluded ? ')' : ']')}");

    /// <summary>Rejects zero and negative values (a learning rate).</summary>
    public static void Positive<T>(Option<T> option) where T : struct, INumber<T> => Add(option, v => v > T.Zero, "a positive number");

    public static void Positive<T>(Option<T?> option) where T : struct, INumber<T> => AddNullable(option, v => v > T.Zero, "a positive number");

    public static void Between<T>(Option<T?> option, T min, T max, bool maxExcluded = false) where T : struct, INumber<T> =>
        AddNullable(option, v => v >= min && (maxExcluded ? v < max : v <= max), $"a number in [{Invariant(min)}, {Invariant(max)}{(maxExcluded ? ')' : ']')}");

    public static void AtLeast<T>(Option<T?> option, T min) where T : struct, INumber<T> =>
        AddNullable(option, v => v >= min, min == T.One ? "a positive integer" : $"a number of at least {min}");

    private static void Add<T>(Option<T> option, Func<T, bool> ok, string expected) where T : struct, INumber<T> =>
        option.Validators.Add(r =>
        {
            if (!Parsed<T>(r)) return;       // a default, or a value the parser already rejected
            var v = r.GetValueOrDefault<T>();
            if (!ok(v)) r.AddError($"Invalid value received for option {option.Name}. Expected {expected}. Received: {Invariant(v)}.");
        });

    private static void AddNullable<T>(Option<T?> option, Func<T, bool> ok, string expected) where T : struct, INumber<T> =>
        option.Validators.Add(r =>
        {
            if (!Parsed<T>(r)) return;
            if (r.GetValueOrDefault<T?>() is T v && !ok(v)) r.AddError($"Invalid value received for option {option.Name}. Expected {expected}. Received: {Invariant(v)}.");
        });

    /// <summary>True when the option was given a value that reads as a number.</summary>
    private static bool Parsed<T>(OptionResult r) where T : struct, INumber<T> =>
        r.Tokens.Count > 0 && T.TryParse(r.Tokens[^1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    /// <summary>Rejects a value that is not one of <paramref name="allowed"/>.</summary>
    public static void OneOf<T>(Option<T> option, params string[] allowed) =>
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && !allowed.Contains(r.Tokens[^1].Value))
                r.AddError($"Invalid value received for option {option.Name}. Expected {Alternatives(allowed)}. Received: {r.Tokens[^1].Value}.");
        });

    /// <summary>
    /// Checks the value with the library's own reader (<paramref name="read"/>, which throws ArgumentException naming
    /// the Keras argument), and reports its message as being about this option.
    /// </summary>
    public static void ReadBy(Option<string> option, Action<string> read) =>
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0) return;
            try { read(r.Tokens[^1].Value); }
            catch (ArgumentException e)
            {
                string m = System.Text.RegularExpressions.Regex.Replace(Messages.ForUser(e), @"argument `\w+`", $"option {option.Name}");
                r.AddError(System.Text.RegularExpressions.Regex.Replace(m, @"Received: \w+=", "Received: "));
            }
        });

    private static string Alternatives(string[] allowed) =>
        allowed.Length == 1 ? allowed[0] : string.Join(", ", allowed[..^1]) + " or " + allowed[^1];

    private static string Invariant<T>(T v) where T : INumber<T> => string.Create(CultureInfo.InvariantCulture, $"{v}");

    private static string OptionName(ArgumentResult r) => r.Parent is OptionResult o ? o.Option.Name : r.Argument.Name;

    /// <summary>
    /// Runs the parsed command line. Parse errors (an unknown option, a bad value) get one "error:" line each on stderr,
    /// with a pointer to --help rather than the whole help text, and exit code 1, before anything else runs.
    /// </summary>
    public static int Invoke(ParseResult result)
    {
        if (result.Errors.Count == 0) return result.Invoke();
        foreach (var e in result.Errors)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            if (Suggestion(result.CommandResult.Command, e.Message) is { } near) Console.Error.WriteLine($"       Did you mean {near}?");
        }
        string path = string.Join(' ', CommandPath(result.CommandResult));
        Console.Error.WriteLine($"Run '{path} --help' to see the options.");
        return 1;
    }

    /// <summary>For an unrecognized option, the command's option nearest to it in spelling (at most two edits away), if any.</summary>
    private static string? Suggestion(Command command, string error)
    {
        var m = System.Text.RegularExpressions.Regex.Match(error, "'(--?[^']+)'");
        if (!m.Success || !error.StartsWith("Unrecognized", StringComparison.Ordinal)) return null;
        string given = m.Groups[1].Value;
        return command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith('-'))
            .Select(n => (n, d: Distance(given, n))).Where(x => x.d <= 2).OrderBy(x => x.d).Select(x => x.n).FirstOrDefault();
    }

    /// <summary>Levenshtein distance.</summary>
    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    private static IEnumerable<string> CommandPath(CommandResult c)
    {
        var names = new List<string>();
        for (SymbolResult? s = c; s is CommandResult cr; s = s.Parent) names.Add(cr.Command is RootCommand ? "dendrite" : cr.Command.Name);
        names.Reverse();
        return names;
    }
}
