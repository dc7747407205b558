using System.Globalization;
using Dendrite.Metrics;
using Dendrite.Plotting;
using Spectre.Console;

namespace Dendrite.Cli;

/// <summary>How the console is set up, and end-of-training output: a compact confusion matrix and the per-class table.</summary>
internal static class Terminal
{
    /// <summary>True when output should carry no colour or bold: stdout is not a terminal, NO_COLOR is set (no-color.org), or TERM is dumb.</summary>
    public static bool Plain { get; private set; }

    /// <summary>
    /// Sets up Spectre.Console once, at start: no escape codes at all (colour, bold, cursor moves) when <see cref="Plain"/>;
    /// and, when stdout is a file or a pipe, a line as long as it needs, so that tables never wrap a path mid-word.
    /// </summary>
    public static void Configure()
    {
        bool redirected = Console.IsOutputRedirected;
        Plain = redirected || Environment.GetEnvironmentVariable("NO_COLOR") is { Length: > 0 } || Environment.GetEnvironmentVariable("TERM") == "dumb";
        if (!Plain) return;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
            Out = new AnsiConsoleOutput(Console.Out),
        });
        if (redirected) AnsiConsole.Profile.Width = 1 << 16;
    }

    public static void Show(ConfusionMatrix m)
    {
        var grid = new Table().Border(TableBorder.Minimal).Title("Confusion matrix (rows: true class, columns: predicted)");
        grid.AddColumn(new TableColumn("").RightAligned());
        foreach (var n in m.ClassNames) grid.AddColumn(new TableColumn(Markup.Escape(Short(Printable.Escape(n)))).RightAligned());
        for (int i = 0; i < m.Classes; i++)
        {
            var cells = new List<string> { $"[bold]{Markup.Escape(Short(Printable.Escape(m.ClassNames[i])))}[/]" };
            for (int j = 0; j < m.Classes; j++)
            {
                long v = m.Counts[i, j];
                cells.Add(v == 0 ? "[grey]·[/]" : i == j ? $"[green]{v}[/]" : v >= 10 ? $"[red]{v}[/]" : $"[yellow]{v}[/]");
            }
            grid.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(grid);
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var h in new[] { "class", "precision", "recall", "F1", "support" }) table.AddColumn(new TableColumn(h).RightAligned());
        for (int c = 0; c < m.Classes; c++)
            table.AddRow(Markup.Escape(Printable.Escape(m.ClassNames[c])), F(m.Precision(c)), F(m.Recall(c)), F(m.F1(c)), m.Support(c).ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("[bold]macro avg[/]", F(Enumerable.Range(0, m.Classes).Average(m.Precision)), F(Enumerable.Range(0, m.Classes).Average(m.Recall)), F(m.MacroF1), m.Total.ToString("N0", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
    }

    private static string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
    private static string Short(string s) => s.Length <= 6 ? s : s[..6];
}
