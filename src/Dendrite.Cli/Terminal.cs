using System.Globalization;
using Dendrite.Metrics;
using Dendrite.Plotting;
using Spectre.Console;

namespace Dendrite.Cli;

/// <summary>End-of-training output in the terminal: a compact confusion matrix and the per-class table.</summary>
internal static class Terminal
{
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
