using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Dendrite.Callbacks;
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;
using Dendrite.Plotting;

namespace Dendrite.Tests;

/// <summary>The command line, run as a user would: what it writes, what it resumes, and how it fails.</summary>
public class RobustCliTests
{
    private static readonly string CliDll = Path.Combine(AppContext.BaseDirectory, "Dendrite.Cli.dll");

    internal static (int Exit, string Out, string Err) Dendrite(string workDir, string[] args, params (string Name, string Value)[] env)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(CliDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (n, v) in env) psi.Environment[n] = v;
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.Result);
    }

    /// <summary>A small data set that a tiny network learns in a few epochs: 3 classes of 4×4 images, each class bright in its own rows.</summary>
    internal static string TinyCsv(TempDir dir, string name = "tiny_train.csv")
    {
        var rng = new Rng(42);
        var sb = new StringBuilder();
        for (int i = 0; i < 300; i++)
        {
            int c = i % 3;
            sb.Append(c);
            for (int p = 0; p < 16; p++) sb.Append(',').Append(Math.Clamp((p / 4 == c ? 200 : 30) + rng.NextInt(41) - 20, 0, 255));
            sb.Append('\n');
        }
        File.WriteAllText(dir.File(name), sb.ToString());
        return name;
    }

    private static string[] Listing(TempDir dir) =>
        Directory.GetFileSystemEntries(dir.Path, "*", SearchOption.AllDirectories).Select(f => f + ":" + (File.Exists(f) ? new FileInfo(f).Length : 0)).Order().ToArray();

    /// <summary>
    /// Issue 12 and 16, item 1-2: --save to a folder, --report onto a file, a missing or unwritable folder, a FIFO, a device, a link to one, and
    /// one file given twice failed after the whole run, or overwrote silently. Each is refused before the data is loaded (the data
    /// set named here does not exist, and is never looked at), with exit code 1, one line, and nothing written.
    /// </summary>
    [Fact]
    public void OutputPathsAreCheckedBeforeAnyWork()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("folder"));
        File.WriteAllText(dir.File("notes.txt"), "mine");
        File.WriteAllText(dir.File("model.dendrite"), "a model");
        BoundedReadTests.MkFifo(dir.File("fifo"));
        string device = PathTests.Device(dir);
        File.CreateSymbolicLink(dir.File("to-device"), device);
        var before = Listing(dir);
        var cases = new (string[] Args, string Says)[]
        {
            (["--save", "folder"], "--save: folder is a folder; give a file name to write."),
            (["--report", "notes.txt"], "--report: notes.txt is a regular file, not a folder"),
            (["--save", "nowhere/m.dendrite"], $"--save: nowhere/m.dendrite: the folder {dir.File("nowhere")} does not exist (it is not created for you)."),
            (["--report", "nowhere/report"], "does not exist (it is not created for you)"),
            (["--save", "/proc/m.dendrite"], "--save: /proc/m.dendrite: cannot write in /proc"),
            (["--checkpoint", "fifo"], "--checkpoint: fifo is a FIFO (named pipe), not a regular file: refusing to replace it."),
            (["--save", device], "is a character device, not a regular file: refusing to replace it."),
            (["--save", "to-device"], $"--save: to-device (a link to {device}) is a character device"),
            (["--save", "m.dendrite", "--checkpoint", "folder/../m.dendrite"], "--checkpoint folder/../m.dendrite and --save m.dendrite are the same file"),
            (["--report", "rep", "--save", "rep/report.html"], "--report rep/report.html and --save rep/report.html are the same file"),
            (["--report", "notes.txt/x"], "--report: notes.txt/x"),
            (["--resume", "model.dendrite", "--save", "./model.dendrite"], "--resume model.dendrite and --save ./model.dendrite are the same file"),
        };
        foreach (var (args, says) in cases)
        {
            var r = Dendrite(dir.Path, ["train", "--dataset", "no-such-data-set", "--quiet", .. args]);
            Assert.True(r.Exit == 1, $"{string.Join(' ', args)}: exit {r.Exit}: {r.Err}");
            Assert.StartsWith("error: ", r.Err);
            Assert.Contains(says, r.Err);
            Assert.Single(r.Err.Trim().Split('\n'));
            Assert.Equal(before, Listing(dir));
        }
        var export = Dendrite(dir.Path, ["export", "--onnx", "model.dendrite", "./folder/../model.dendrite"]);
        Assert.Equal(1, export.Exit);
        Assert.Contains("model model.dendrite and output ./folder/../model.dendrite are the same file", export.Err);
        // A run may resume a checkpoint into itself: that pair passes, and the data set is what fails.
        var resume = Dendrite(dir.Path, ["train", "--dataset", "no-such-data-set", "--resume", "model.dendrite", "--checkpoint", "model.dendrite"]);
        Assert.Contains("no-such-data-set", resume.Err);
        Assert.Equal(before, Listing(dir));
        Assert.Equal("a model", File.ReadAllText(dir.File("model.dendrite")));
    }

    /// <summary>Issue 16, item 1: a link given to --save is followed: the file it leads to gets the model, the link stays a link.</summary>
    [Fact]
    public void SavingThroughALinkKeepsTheLink()
    {
        using var dir = new TempDir();
        string data = TinyCsv(dir);
        Directory.CreateDirectory(dir.File("store"));
        File.WriteAllText(dir.File("store/model-v1.dendrite"), "old");
        File.CreateSymbolicLink(dir.File("current.dendrite"), "store/model-v1.dendrite");
        var r = Dendrite(dir.Path, ["train", "--dataset", data, "--hidden", "8", "--epochs", "10", "--lr", "0.5", "--seed", "1", "--quiet", "--save", "current.dendrite"]);
        Assert.True(r.Exit == 0, r.Err);
        Assert.Equal("store/model-v1.dendrite", new FileInfo(dir.File("current.dendrite")).LinkTarget);
        Assert.NotNull(Sequential.Load(dir.File("store/model-v1.dendrite")));
        Assert.Equal(["current.dendrite", "store", "tiny_train.csv"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName).Order());
    }

    /// <summary>
    /// Issue 16, item 4: --lr 1e6 reached a loss of 1.8e20, replaced the good model and checkpoint, and exited 0. The run is
    /// reported as diverged (exit 3), and the files that were there are kept unless --overwrite.
    /// </summary>
    [Fact]
    public void ADivergedRunIsReportedAndReplacesNothing()
    {
        using var dir = new TempDir();
        string data = TinyCsv(dir);
        string[] good = ["train", "--dataset", data, "--hidden", "8", "--epochs", "10", "--lr", "0.5", "--seed", "1", "--quiet"];
        Assert.Equal(0, Dendrite(dir.Path, [.. good, "--save", "m.dendrite", "--checkpoint", "c.dendrite"]).Exit);
        byte[] model = File.ReadAllBytes(dir.File("m.dendrite")), ckpt = File.ReadAllBytes(dir.File("c.dendrite"));
        string[] wild = ["train", "--dataset", data, "--hidden", "8", "--epochs", "2", "--lr", "1e6", "--seed", "1", "--quiet", "--save", "m.dendrite", "--checkpoint", "c.dendrite"];
        var r = Dendrite(dir.Path, wild);
        Assert.Equal(3, r.Exit);
        Assert.Contains("error: training diverged: the training loss ended at", r.Err);
        Assert.Contains("m.dendrite was kept: a diverged run does not replace a model (--overwrite to replace it anyway)", r.Err);
        Assert.Contains("c.dendrite was kept", r.Err);
        Assert.Equal(model, File.ReadAllBytes(dir.File("m.dendrite")));
        Assert.Equal(ckpt, File.ReadAllBytes(dir.File("c.dendrite")));
        var forced = Dendrite(dir.Path, [.. wild, "--overwrite"]);
        Assert.Equal(3, forced.Exit);
        Assert.NotEqual(model, File.ReadAllBytes(dir.File("m.dendrite")));
        Assert.NotEqual(ckpt, File.ReadAllBytes(dir.File("c.dendrite")));
    }

    /// <summary>Issue 16, item 5: resuming a --validation-split checkpoint failed ("Give validationData or validationSplit, not both"). It resumes, and ends as the uninterrupted run.</summary>
    [Fact]
    public void AValidationSplitCheckpointResumesFromTheCommandLine()
    {
        using var dir = new TempDir();
        string data = TinyCsv(dir);
        var (train, _) = LocalData.Load(dir.File(data));
        Sequential Fresh()
        {
            var m = new Sequential(new Flatten(inputShape: [4, 4]), new Rescaling(1f / 255), new Dense(8, "relu"), new Dense(3, "softmax")) { Seed = 3 };
            m.Compile("categorical_crossentropy", new SGD(0.5f), ["accuracy"]);
            return m;
        }
        var whole = Fresh();
        whole.Fit(train, batchSize: 20, epochs: 4, verbose: 0, seed: 9, validationSplit: 0.25f);
        var part = Fresh();
        part.Fit(train, batchSize: 20, epochs: 4, verbose: 0, seed: 9, validationSplit: 0.25f, callbacks: [new StopAfter(2, 3)]);
        part.SaveCheckpoint(dir.File("c.dendrite"));
        var r = Dendrite(dir.Path, ["train", "--resume", "c.dendrite", "--dataset", data, "--quiet", "--save", "r.dendrite"]);
        Assert.True(r.Exit == 0, r.Err);
        Assert.Contains("Resuming c.dendrite: epoch 2/4, step 3", r.Out);
        Assert.Equal(whole.Weights.SelectMany(w => w.Value.ToArray()), Sequential.Load(dir.File("r.dendrite")).Weights.SelectMany(w => w.Value.ToArray()));
    }

    private sealed class StopAfter(int epoch, int step) : Callback
    {
        private Sequential? _m;
        public override void OnTrainBegin(Sequential model, TrainingInfo info) => _m = model;
        public override void OnBatchEnd(int e, in BatchLogs logs) { if (e == epoch && logs.Step == step) _m!.StopTraining = true; }
    }

    /// <summary>Issue 14: --hidden 2000000 (train and summary) died with an OutOfMemoryException and a trace. Now a message with the estimate, exit code 1.</summary>
    [Fact]
    public void WorkThatWouldNotFitIsRefusedWithTheEstimate()
    {
        using var dir = new TempDir();
        string data = TinyCsv(dir);
        var limit = ("DOTNET_GCHeapHardLimit", "0x40000000");   // 1 GB, so the test means the same on every machine
        var summary = Dendrite(dir.Path, ["summary", "--hidden", "2000000"], limit);
        Assert.Equal(1, summary.Exit);
        Assert.Matches(@"^error: Building this model needs about 5\.9 GB \(its weights\); \d+(\.\d)? MB of memory is available\.\n$", summary.Err);
        var train = Dendrite(dir.Path, ["train", "--dataset", data, "--hidden", "2000000", "--quiet"], limit);
        Assert.Equal(1, train.Exit);
        Assert.Contains("error: Training this model in batches of 128 needs about", train.Err);
        Assert.DoesNotContain("   at ", train.Err + summary.Err);
        // --epochs 1000000 starts at once (nothing is reserved for a million epochs), and Ctrl+C stops it.
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = dir.Path, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { CliDll, "train", "--dataset", data, "--hidden", "16", "--epochs", "1000000", "--lr", "0.5", "--quiet", "--checkpoint", "c.dendrite" }) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_GCHeapHardLimit"] = "0x10000000";
        using var p = Process.Start(psi)!;
        for (int i = 0; i < 600 && !File.Exists(dir.File("c.dendrite")) && !p.HasExited; i++) Thread.Sleep(50);
        if (p.HasExited) Assert.Fail($"the run ended before it could be interrupted: {p.StandardError.ReadToEnd()}");
        Process.Start("kill", ["-INT", p.Id.ToString()])!.WaitForExit();
        p.WaitForExit();
        Assert.Equal(130, p.ExitCode);
    }

    /// <summary>Issue 16, item 8: --batch-size 2147483647 overflowed into "0/0 ... Infinityms/step" and exit 0. Now it trains on the whole set as one batch, and says so once.</summary>
    [Fact]
    public void AHugeBatchSizeTrainsOnTheWholeSet()
    {
        using var dir = new TempDir();
        string data = TinyCsv(dir);
        var r = Dendrite(dir.Path, ["train", "--dataset", data, "--hidden", "8", "--epochs", "40", "--lr", "1", "--seed", "2", "--batch-size", "2147483647"]);
        Assert.True(r.Exit == 0, r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.Contains("note: --batch-size 2,147,483,647 is more than the 270 training samples: training on all of them as one batch.", r.Err);
        Assert.Contains("1/1 [==============================]", r.Out);
        Assert.DoesNotContain("Infinity", r.Out);
    }

    /// <summary>Issue 14: predict on a FIFO waited for ever; on a link to /dev/zero it read until memory ran out. Both get a message.</summary>
    [Fact]
    public async Task PredictRefusesAFifoAndADevice()
    {
        using var dir = new TempDir();
        BoundedReadTests.MkFifo(dir.File("fifo"));
        File.CreateSymbolicLink(dir.File("zero.png"), "/dev/zero");
        foreach (var (args, says) in new[] { (new[] { "--model", "fifo", "x.png" }, "error: fifo is a FIFO (named pipe), not a regular file; expected a model file."),
            (["--model", Corpus.Path("escape-class-names.dendrite"), "fifo", "zero.png"], "error: fifo is a FIFO"),
            (["--model", Corpus.Path("escape-class-names.dendrite"), "zero.png"], "error: zero.png (a link to /dev/zero) is a character device") })
        {
            var r = await Task.Run(() => Dendrite(dir.Path, ["predict", .. args])).WaitAsync(TimeSpan.FromSeconds(60));   // a TimeoutException if predict blocks
            Assert.Equal(1, r.Exit);
            Assert.Contains(says, r.Err);
        }
    }

    /// <summary>Issue 16, item 10: class names holding ANSI escapes or U+202E were printed raw. They are shown escaped, in the terminal and the report.</summary>
    [Fact]
    public void ClassNamesFromAFileAreShownEscaped()
    {
        using var dir = new TempDir();
        var pgm = "P2 4 4 255\n" + string.Join(' ', Enumerable.Range(0, 16).Select(i => i * 16)) + "\n";
        File.WriteAllText(dir.File("x.pgm"), pgm);
        var r = Dendrite(dir.Path, ["predict", "--model", Corpus.Path("escape-class-names.dendrite"), "--no-preprocess", "x.pgm"]);
        Assert.True(r.Exit == 0, r.Err);
        Assert.Contains("\\x1b[2J\\x1b[31mseven (", r.Out);
        Assert.Contains("\\u202eevil (", r.Out);
        Assert.DoesNotContain('\u001b', r.Out);
        Assert.DoesNotContain('\u202e', r.Out);
        Assert.Equal("a\\x07b\\u202ec\\x9b \U0001F600 \\ud800", Printable.Escape("a\u0007b\u202ec\u009b \U0001F600 \ud800"));
        // The HTML report (which escapes HTML already) shows them escaped too.
        var m = Sequential.Load(Corpus.Path("escape-class-names.dendrite"));
        var x = new Tensor(6, 4, 4);
        var labels = new byte[] { 0, 1, 0, 1, 0, 1 };
        var set = new Dataset("\u202eset", new byte[6 * 16], [4, 4], labels, m.ClassNames!);
        string html = File.ReadAllText(TrainingReport.Write(dir.File("rep"), m, new History(), set, new Dictionary<string, string> { ["data"] = set.Name }, new Evaluation(0.5, 0.5)));
        Assert.Contains("\\x1b[2J\\x1b[31mseven", html);
        Assert.Contains("\\u202eevil", html);
        Assert.DoesNotContain('\u001b', html);
        Assert.DoesNotContain('\u202e', html);
        Assert.DoesNotContain('\u202e', File.ReadAllText(dir.File("rep/confusion.svg")));
    }

    /// <summary>A model saved before checksums still works from the command line, with a note.</summary>
    [Fact]
    public void AnOldModelFileLoadsWithANote()
    {
        using var dir = new TempDir();
        var r = Dendrite(dir.Path, ["summary", "--model", Corpus.Path("legacy-no-checksum.dendrite")]);
        Assert.Equal(0, r.Exit);
        Assert.Contains("hidden (Dense)", r.Out);
        Assert.Contains("legacy-no-checksum.dendrite carries no checksum (it was saved by an older Dendrite)", r.Err);
    }
}

/// <summary>The top-level handler, run in this process on a command that fails as a bug would: one line, where to report it, exit code 70; the trace only with --verbose.</summary>
[Collection("Console")]
public class TopLevelHandlerTests
{
    private static (int Exit, string Err) Run(params string[] args)
    {
        var root = new RootCommand("test");
        var boom = new Command("boom");
        boom.SetAction(_ => Dendrite.Cli.Cli.Run(() => { object? o = null; return o!.GetHashCode(); }));
        var bad = new Command("bad");
        bad.SetAction(_ => Dendrite.Cli.Cli.Run(() => throw new InvalidDataFormatException("input.png: not a PNG or PGM image.")));
        root.Add(boom);
        root.Add(bad);
        var saved = Console.Error;
        var err = new StringWriter();
        Console.SetError(err);
        try { return (Dendrite.Cli.Cli.RunCommandLine(root, args), err.ToString()); }
        finally { Console.SetError(saved); }
    }

    [Fact]
    public void AnUnexpectedErrorIsOneLineWithADistinctExitCode()
    {
        var (exit, err) = Run("boom");
        Assert.Equal(70, exit);
        Assert.Single(err.Trim().Split('\n'));
        Assert.StartsWith("dendrite: internal error: NullReferenceException: ", err);
        Assert.Contains("This is a bug in Dendrite: please report it to the Dendrite issue tracker", err);
        Assert.DoesNotContain("   at ", err);
        var (verboseExit, verbose) = Run("boom", "--verbose");
        Assert.Equal(70, verboseExit);
        Assert.Contains("   at ", verbose);
        var (userExit, user) = Run("bad");
        Assert.Equal(1, userExit);
        Assert.Equal("error: input.png: not a PNG or PGM image.\n", user.Replace("\r", ""));
    }
}
