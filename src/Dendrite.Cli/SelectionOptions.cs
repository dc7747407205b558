using System.CommandLine;
using System.Globalization;
using Dendrite.Callbacks;
using Dendrite.Data;

namespace Dendrite.Cli;

/// <summary>
/// The options of `train` that act on the validation score (early stopping, reducing the rate on a plateau), and the
/// rule that keeps them honest: they select on data held out of the training set, never on the test set. Without
/// --validation-split they hold out the last 10% of the training data (Keras's last-fraction rule), and say so.
/// </summary>
internal sealed class SelectionOptions
{
    public const float DefaultSplit = 0.1f;

    public readonly Option<int?> EarlyStopping = new("--early-stopping") { Description = "Stop once val_loss has not improved for this many epochs, and keep the weights of the best epoch (Keras's EarlyStopping, restore_best_weights); validates on held-out training data (default: off)" };
    public readonly Option<int?> ReduceLrOnPlateau = new("--reduce-lr-on-plateau") { Description = "Multiply the learning rate by 0.1 once val_loss has not improved (by 1e-4) for this many epochs (Keras's ReduceLROnPlateau); validates on held-out training data (default: off)" };

    public SelectionOptions()
    {
        Checks.AtLeast(EarlyStopping, 0);
        Checks.AtLeast(ReduceLrOnPlateau, 0);
    }

    public IEnumerable<Option> All => [EarlyStopping, ReduceLrOnPlateau];

    /// <summary>The options given that select on the validation score, by name.</summary>
    public List<string> Selecting(ParseResult r) =>
        [.. new Option<int?>[] { EarlyStopping, ReduceLrOnPlateau }.Where(o => r.GetValue(o) is not null).Select(o => o.Name)];

    /// <summary>Refuses a combination that cannot work, before the data loads.</summary>
    public void Check(ParseResult r, string schedule)
    {
        if (r.GetValue(ReduceLrOnPlateau) is not null && schedule != "none")
            throw new ArgumentException($"--reduce-lr-on-plateau changes the learning rate, which --schedule {schedule} sets: use one or the other.");
    }

    /// <summary>
    /// The validation split to train with: <paramref name="split"/>, or, when something selects on the validation score
    /// and nothing is held out, the last 10% (with a note). A resumed run that validated on the test set cannot select.
    /// </summary>
    public float Split(ParseResult r, float split, bool resumed)
    {
        var selecting = Selecting(r);
        if (selecting.Count == 0 || split > 0) return split;
        if (resumed) throw new ArgumentException($"{string.Join(" and ", selecting)} select{(selecting.Count == 1 ? "s" : "")} on the validation loss, but this run validates on the test set (it was started without --validation-split): start a new run.");
        Cli.Note(FormattableString.Invariant($"{string.Join(" and ", selecting)} select{(selecting.Count == 1 ? "s" : "")} on the validation loss: holding out the last {DefaultSplit * 100:0.##}% of the training data for it (as --validation-split {DefaultSplit.ToString(CultureInfo.InvariantCulture)}); the test set is used once, at the end."));
        return DefaultSplit;
    }

    /// <summary>The callbacks asked for.</summary>
    public IEnumerable<Callback> Callbacks(ParseResult r)
    {
        if (r.GetValue(EarlyStopping) is int p) yield return new EarlyStopping("val_loss", patience: p, restoreBestWeights: true);
        if (r.GetValue(ReduceLrOnPlateau) is int q) yield return new ReduceLROnPlateau("val_loss", patience: q);
    }

    /// <summary>A line saying which data the run validates on.</summary>
    public static string Describe(float split, int validationCount, Dataset test) => split > 0
        ? string.Create(CultureInfo.InvariantCulture, $"Validating on the last {split * 100:0.##}% of the training set ({validationCount:N0} images, held out of training); the test set ({test.Count:N0} images) is evaluated once, at the end.")
        : string.Create(CultureInfo.InvariantCulture, $"Validating on the test set ({test.Count:N0} images) to draw the curves only: nothing selects on it. Use --validation-split to hold out training data instead.");

    /// <summary>What early stopping did, for the report after training; null when it was not used.</summary>
    public static string? Outcome(IEnumerable<Callback> callbacks)
    {
        var lines = new List<string>();
        foreach (var c in callbacks)
        {
            if (c is EarlyStopping { BestEpoch: > 0 } es)
                lines.Add(es.StoppedEpoch > 0
                    ? FormattableString.Invariant($"Early stopping: stopped after epoch {es.StoppedEpoch}; kept the weights of epoch {es.BestEpoch} (val_loss {es.Best:F4}).")
                    : FormattableString.Invariant($"Early stopping: ran every epoch; kept the weights of epoch {es.BestEpoch} (val_loss {es.Best:F4})."));
            if (c is ReduceLROnPlateau { Reductions.Count: > 0 } rl)
                lines.Add($"Learning rate reduced after epoch{(rl.Reductions.Count > 1 ? "s" : "")} {string.Join(", ", rl.Reductions)}.");
        }
        return lines.Count == 0 ? null : string.Join(Environment.NewLine, lines);
    }
}
