using System.CommandLine;
using System.Globalization;
using Dendrite.Callbacks;
using Dendrite.Data;
using Dendrite.Metrics;
using Dendrite.Models;
using Dendrite.Optimizers;
using Dendrite.Plotting;
using Dendrite.Serialization;
using Spectre.Console;

namespace Dendrite.Cli;

internal static class TrainCommand
{
    public static Command Create()
    {
        var net = new NetworkOptions();
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training data (default: the architecture's recipe, 15)", DefaultValueFactory = _ => 15 };
        var batch = new Option<int>("--batch-size") { Description = "Mini-batch size (default: the architecture's recipe, 128)", DefaultValueFactory = _ => 128 };
        var training = new TrainingOptions();
        var schedules = new ScheduleOptions();
        var selection = new SelectionOptions();
        var validationSplit = new Option<float>("--validation-split") { Description = "Fraction of the training data held out for validation (Keras's last-fraction rule); 0 validates on the test set", DefaultValueFactory = _ => 0f };
        var threads = new Option<int?>("--threads") { Description = "Kernel threads (default: all cores)" };
        var data = new DataOptions();
        var save = new Option<string?>("--save") { Description = "Save the trained model to this file" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Write a resumable checkpoint here after every epoch (and on Ctrl+C)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run saved in this checkpoint, with its settings" };
        var report = new Option<string?>("--report") { Description = "Write charts (SVG and PNG), CSV histories and report.html into this folder" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress output" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Let a diverged run replace an existing --save file or checkpoint" };
        // Checked while the command line is parsed, before any data is loaded (see Checks).
        Checks.AtLeast(epochs, 1); Checks.AtLeast(batch, 1);
        Checks.Between(validationSplit, 0f, 1f, maxExcluded: true); Checks.AtLeast(threads, 1);

        var cmd = new Command("train", "Train a network (dense by default, or a CNN with --arch/--layers) on MNIST and report test loss and accuracy");
        net.AddTo(cmd);
        foreach (var o in (Option[])[epochs, batch, .. training.All, .. schedules.All, validationSplit, .. selection.All, threads, save, checkpoint, resume, report, quiet, overwrite]) cmd.Add(o);
        data.AddTo(cmd);
        cmd.SetAction(r => Cli.Run(() =>
        {
            if (r.GetValue(threads) is int t) Parallelism.MaxThreads = t;
            // A named architecture brings the recipe it was published with; options given on the command line win.
            var recipe = net.Recipe(r);
            T Setting<T>(Option<T> o, T fromRecipe) => r.GetResult(o) is { Implicit: false } ? r.GetValue(o)! : fromRecipe;
            int epochCount = Setting(epochs, recipe.Epochs), recipeBatch = Setting(batch, recipe.BatchSize);
            // The optimizer's settings are checked before the data is loaded; a resumed run keeps its own.
            var optimizer = r.GetValue(resume) is null ? training.Build(r, recipe) : null;
            if (optimizer is not null) { schedules.Check(r); selection.Check(r, schedules.Kind(r)); }
            // Every path the run reads or writes is checked before the data is loaded.
            string? ckptPath = r.GetValue(checkpoint), reportDir = r.GetValue(report), savePath = r.GetValue(save);
            new CommandPaths()
                .Input("--dataset", File.Exists(r.GetValue(data.Dataset)) ? r.GetValue(data.Dataset) : null)
                .Input("--resume", r.GetValue(resume))
                .OutputFolder("--report", reportDir, TrainingReport.FileNames)
                .Output("--checkpoint", ckptPath, mayBe: "--resume")
                .Output("--save", savePath);
            var (trainSet, testSet) = data.Load(r);
            Sequential model;
            TrainingState? state = null;
            if (r.GetValue(resume) is string from)
            {
                model = Sequential.LoadCheckpoint(from, out state, out var note);
                Cli.Note(note);
                if (state.IsComplete) { Console.WriteLine($"{from}: that run finished all {state.Epochs} epochs; nothing to resume."); return 0; }
                Console.WriteLine($"Resuming {from}: epoch {state.EpochsDone + 1}/{state.Epochs}, step {state.StepsDone}, batch size {state.BatchSize}.");
            }
            else
            {
                model = net.Build(r, trainSet.ItemShape, trainSet.Classes);
                model.Compile(net.GetLoss(r), optimizer!, ["accuracy"]);
            }
            float vs = state?.ValidationSplit ?? r.GetValue(validationSplit);  // a resumed run keeps its split
            vs = selection.Split(r, vs, resumed: state is not null);          // selecting on a score needs held-out training data
            int nVal = (int)(trainSet.Count * vs), nTrain = trainSet.Count - nVal;   // as Fit splits
            int batchSize = state?.BatchSize ?? recipeBatch;
            if (batchSize > nTrain && nTrain > 0)
            {
                Cli.Note($"--batch-size {batchSize:N0} is more than the {nTrain:N0} training samples: training on all of them as one batch.");
                batchSize = nTrain;
            }
            if (batchSize > 0) model.CheckMemory(batchSize, trainSet.ItemShape);   // before the weights are made
            if (state is null && schedules.Build(r, model.Optimizer!.LearningRate, (int)((nTrain + (long)Math.Max(1, batchSize) - 1) / Math.Max(1, batchSize)), epochCount) is { } schedule)
                model.Optimizer.Schedule = schedule;
            bool q = r.GetValue(quiet);
            if (!q && state is null) AnsiConsole.Write(new Text(Printable.EscapeLines(model.SummaryText())));

            var callbacks = new List<Callback>();
            var interrupt = new InterruptCallback();
            callbacks.Add(interrupt);
            var keeper = ckptPath is null ? null : new ModelCheckpoint(ckptPath, monitor: "loss", saveBestOnly: false, resumable: true, overwriteDiverged: r.GetValue(overwrite));
            if (keeper is not null) callbacks.Add(keeper);
            callbacks.AddRange(selection.Callbacks(r));
            if (!q) Console.WriteLine(SelectionOptions.Describe(vs, nVal, testSet));
            if (reportDir is not null)
            {
                Directory.CreateDirectory(reportDir);
                long steps = batchSize > 0 ? (nTrain + (long)batchSize - 1) / batchSize : 1;
                callbacks.Add(new IterationValidation(vs > 0 ? trainSet.Slice(nTrain, nVal) : testSet, (int)Math.Max(1, steps / 5)));
                callbacks.Add(new CsvLogger(Path.Combine(reportDir, "history.csv"), Path.Combine(reportDir, "iterations.csv")));
            }
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; interrupt.Requested = true; };
            Console.CancelKeyPress += onCancel;
            Dataset? validation = vs > 0 ? null : testSet;
            History history;
            try
            {
                if (!q && AnsiConsole.Profile.Capabilities.Interactive)
                {
                    History? h = null;
                    AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
                        .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                        .Start(ctx => h = model.Fit(trainSet, batchSize, epochCount, verbose: 0, validationSplit: vs, validationData: validation,
                            seed: r.GetValue(net.Seed), callbacks: [.. callbacks, new SpectreProgress(ctx)], resumeFrom: state));
                    history = h!;
                }
                else history = model.Fit(trainSet, batchSize, epochCount, verbose: q ? 0 : 1, validationSplit: vs, validationData: validation,
                    seed: r.GetValue(net.Seed), callbacks: callbacks, resumeFrom: state);
            }
            finally { Console.CancelKeyPress -= onCancel; }

            if (interrupt.Requested)
            {
                string path = ckptPath ?? Cli.FreePath("checkpoint.dendrite");
                model.SaveCheckpoint(path);
                var s = model.TrainingState!;
                Console.WriteLine($"Interrupted at epoch {s.EpochsDone + 1}, step {s.StepsDone}. Checkpoint saved to {path}; continue with: dendrite train --resume {path}");
                return Cli.Interrupted;
            }
            if (!q && SelectionOptions.Outcome(callbacks) is { } outcome) Console.WriteLine(outcome);
            var test = model.Evaluate(testSet);
            if (model.TrainingState is { } ts) ts.DataName = r.GetValue(data.Dataset);
            double perEpoch = history.EpochSeconds.Count > 1 ? history.EpochSeconds.Skip(1).Average() : history.EpochSeconds.DefaultIfEmpty(0).Average();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Test loss: {test.Loss:F4} - test accuracy: {test.Accuracy:F4} ({test.Accuracy * 100:F2}%) - {perEpoch:F2} s/epoch after the first, {Parallelism.MaxThreads} thread{(Parallelism.MaxThreads == 1 ? "" : "s")}"));
            (ConfusionMatrix Matrix, Tensor Probabilities)? confusion = !q || reportDir is not null ? TrainingReport.Confusion(model, testSet) : null;
            if (!q) Terminal.Show(confusion!.Value.Matrix);
            // A run that ended far above its starting loss, or at chance, has diverged: it is reported, and it replaces no good file.
            string? diverged = Divergence.Check(history, test.Accuracy, Divergence.Chance(testSet.Labels), "test accuracy");
            if (keeper?.Skipped is { } skipped) Cli.Note($"the checkpoint was not updated at {skipped} (a diverged run; --overwrite to replace it anyway).");
            if (reportDir is not null)
            {
                var hp = new Dictionary<string, string>
                {
                    ["layers"] = string.Join(" → ", model.Layers.Select(Describe)),
                    ["loss"] = model.Loss!.Name,
                    ["optimizer"] = model.Optimizer!.ToString(),
                    ["batch size"] = model.TrainingState!.BatchSize.ToString(CultureInfo.InvariantCulture),
                    ["epochs"] = model.TrainingState.Epochs.ToString(CultureInfo.InvariantCulture),
                    ["seed"] = model.TrainingState.Seed.ToString(CultureInfo.InvariantCulture),
                    ["validation"] = vs > 0 ? $"last {vs:P0} of the training set" : "the MNIST test set",
                    ["data"] = $"{r.GetValue(data.Dataset)} ({trainSet.Count:N0} training, {testSet.Count:N0} test images)",
                    ["kernel threads"] = Parallelism.MaxThreads.ToString(CultureInfo.InvariantCulture),
                };
                if (model.Optimizer!.Schedule is { } sch) hp["learning-rate schedule"] = sch.ToString();
                string html = TrainingReport.Write(reportDir, model, history, testSet, hp, test, confusion);
                Console.WriteLine($"Report written to {html}");
            }
            if (savePath is not null)
            {
                if (diverged is not null && FilePaths.KindOf(savePath) == Dendrite.Serialization.FileKind.Regular && !r.GetValue(overwrite))
                    Cli.Note($"{savePath} was kept: a diverged run does not replace a model (--overwrite to replace it anyway).");
                else
                {
                    model.Save(savePath);
                    Console.WriteLine($"Model saved to {savePath}");
                }
            }
            if (diverged is null) return 0;
            Cli.Error(string.Create(CultureInfo.InvariantCulture, $"training diverged: {diverged}. Check the learning rate (now {model.Optimizer!.LearningRate}), that the inputs are scaled to [0, 1], and that the run is long enough to learn."));
            return Cli.Diverged;
        }));
        return cmd;
    }

    /// <summary>A layer in a few words: Dense(128, relu), Conv2D(32, 3×3, relu), MaxPooling2D(2×2), Dropout(0.5).</summary>
    internal static string Describe(Dendrite.Layers.Layer l) => l switch
    {
        Dendrite.Layers.Dense d => $"Dense({d.Units}, {d.Activation.Name})",
        Dendrite.Layers.Conv2D c => string.Create(CultureInfo.InvariantCulture, $"Conv2D({c.Filters}, {c.KernelSize.Height}×{c.KernelSize.Width}{(c.Strides != new Size2D(1, 1) ? $", strides {c.Strides.Height}×{c.Strides.Width}" : "")}{(c.Padding == Padding.Same ? ", same" : "")}, {c.Activation.Name})"),
        Dendrite.Layers.Pooling2D p => $"{p.GetType().Name}({p.PoolSize.Height}×{p.PoolSize.Width})",
        Dendrite.Layers.Dropout d => string.Create(CultureInfo.InvariantCulture, $"Dropout({d.Rate})"),
        _ => l.GetType().Name,
    };

    /// <summary>Stops training cleanly after the current batch once Ctrl+C was pressed.</summary>
    private sealed class InterruptCallback : Callback
    {
        private Sequential? _model;
        public volatile bool Requested;
        public override void OnTrainBegin(Sequential model, TrainingInfo info) => _model = model;
        public override void OnBatchEnd(int epoch, in BatchLogs logs) { if (Requested) _model!.StopTraining = true; }
    }
}
