using System.Diagnostics;
using System.Text.RegularExpressions;
using Dendrite.Cli;
using Dendrite.Data;
using Dendrite.Imaging;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;

namespace Dendrite.Tests;

/// <summary>The command line checks what it is given before it works, and says only what the user got wrong (issue 12).</summary>
public class CliChecksTests
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "Dendrite.Cli.dll");

    private static (int Exit, string Out, string Err) Dendrite(string workDir, string[] args, params (string Name, string Value)[] env)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Cli);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (n, v) in env) psi.Environment[n] = v;
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.Result);
    }

    /// <summary>A small model trained on part of the MNIST test set (about 85% accurate), saved in <paramref name="dir"/>.</summary>
    private static string SmallModel(TempDir dir, string name = "m.dendrite")
    {
        var model = new Sequential(new Flatten(inputShape: [28, 28]), new Rescaling(1f / 255), new Dense(10, activation: "softmax")) { Seed = 1 };
        model.Compile("categorical_crossentropy", new SGD(0.5f));
        model.Fit(ModelTests.Data.Value.Test.Take(2000), batchSize: 100, epochs: 1, verbose: 0);
        model.Save(dir.File(name));
        return name;
    }

    private static void AssertPlainError(int exit, string err, string message)
    {
        Assert.Equal(1, exit);
        Assert.StartsWith($"error: {message}", err);
        Assert.DoesNotContain("(Parameter", err);
        Assert.DoesNotContain("Actual value", err);
        Assert.DoesNotContain("System.", err);
    }

    // The data set is one that is not on this machine, offline: had anything loaded data first, the error would say so.
    private static readonly string[] NoData = ["--dataset", "notmnist", "--offline"];

    public static TheoryData<string[], string> BadValues => new()
    {
        { ["train", "--epochs", "0", .. NoData], "Invalid value received for option --epochs. Expected a positive integer. Received: 0." },
        { ["train", "--epochs", "-1", .. NoData], "Invalid value received for option --epochs. Expected a positive integer. Received: -1." },
        { ["train", "--batch-size", "-5", .. NoData], "Invalid value received for option --batch-size. Expected a positive integer. Received: -5." },
        { ["train", "--seed", "abc", .. NoData], "Invalid value received for option --seed. Expected a whole number from 0 to 18446744073709551615. Received: abc." },
        { ["train", "--lr", "0", .. NoData], "Invalid value received for option --lr. Expected a positive number. Received: 0." },
        { ["train", "--momentum", "1", .. NoData], "Invalid value received for option --momentum. Expected a number in [0, 1). Received: 1." },
        { ["train", "--optimizer", "adamax", .. NoData], "Invalid value received for option --optimizer. Expected sgd, adam, adamw, rmsprop, adagrad or adadelta. Received: adamax." },
        { ["train", "--validation-split", "x", .. NoData], "Invalid value received for option --validation-split. Expected a number. Received: x." },
        { ["train", "--threads", "0", .. NoData], "Invalid value received for option --threads. Expected a positive integer. Received: 0." },
        { ["train", "--hidden", "12,x", .. NoData], "Invalid value received for option --hidden. Expected positive integers separated by commas. Received: 12,x." },
        { ["train", "--activation", "swish", .. NoData], "Invalid value received for option --activation. Expected one of linear, relu, tanh, sigmoid, softmax, log_softmax. Received: swish." },
        { ["train", "--scale", "2", .. NoData], "Invalid value received for option --scale. Expected 0-1 or raw. Received: 2." },
        { ["train", "--augment", "spin=0.1", .. NoData], "Invalid value received for option --augment: unknown `spin`. Expected translate, rotate, zoom, fill, interpolation or fill_value." },
        { ["evaluate", "--model", "m.dendrite", "--split", "val", .. NoData], "Invalid value received for option --split. Expected test or train. Received: val." },
        { ["predict", "--model", "m.dendrite", "--top", "0", "digit.png"], "Invalid value received for option --top. Expected a positive integer. Received: 0." },
        { ["export", "m.dendrite", "m.onnx", "--format", "tf"], "Invalid value received for option --format. Expected onnx. Received: tf." },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void BadValuesStopTheCommandBeforeAnythingLoadsTrainsOrIsWritten(string[] args, string message)
    {
        using var dir = new TempDir();
        var r = Dendrite(dir.Path, args);
        AssertPlainError(r.Exit, r.Err, message);
        Assert.Equal(2, r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);   // the error and where the options are
        Assert.Contains("--help' to see the options", r.Err);
        Assert.Equal("", r.Out);                                                          // no summary, no training
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));                      // nothing written
    }

    /// <summary>A setting the chosen optimizer does not have is refused before any data loads.</summary>
    [Theory]
    [InlineData("adam", "--nesterov", "--nesterov is a setting of sgd; --optimizer adam does not take it.")]
    [InlineData("rmsprop", "--amsgrad", "--amsgrad is a setting of adam and adamw; --optimizer rmsprop does not take it.")]
    [InlineData("adagrad", "--momentum=0.5", "--momentum is a setting of sgd and rmsprop; --optimizer adagrad does not take it.")]
    public void ASettingTheOptimizerDoesNotHaveIsRefused(string optimizer, string setting, string message)
    {
        using var dir = new TempDir();
        var r = Dendrite(dir.Path, ["train", "--optimizer", optimizer, setting, .. NoData]);
        AssertPlainError(r.Exit, r.Err, message);
        Assert.Equal("", r.Out);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void AMistypedOptionGetsTheNearestName()
    {
        using var dir = new TempDir();
        var r = Dendrite(dir.Path, ["train", "--epoch", "3"]);
        Assert.Equal(1, r.Exit);
        Assert.Contains("error: Unrecognized command or argument '--epoch'.", r.Err);
        Assert.Contains("Did you mean --epochs?", r.Err);
        Assert.Equal("", r.Out);
    }

    [Fact]
    public void MessagesLoseDotNetsParameterTails()
    {
        Assert.Equal("Invalid value received for argument `batch_size`. Expected a positive integer. Received: batch_size=-5.",
            Messages.ForUser(new ArgumentOutOfRangeException("batchSize", -5, "Invalid value received for argument `batch_size`. Expected a positive integer. Received: batch_size=-5.")));
        Assert.Equal("The model has no layers.", Messages.ForUser(new ArgumentException("The model has no layers.", "layers")));
        Assert.Equal("x is required.", Messages.ForUser(new ArgumentNullException("x", "x is required.")));
        Assert.Equal("m.dendrite: 5 bytes is too short.", Messages.ForUser(new IOException("m.dendrite: 5 bytes is too short.")));
    }

    [Fact]
    public void AFolderWhereAFileBelongsIsCalledAFolder()
    {
        using var dir = new TempDir();
        string model = SmallModel(dir);
        Directory.CreateDirectory(dir.File("digits"));
        var cases = new (string[] Args, string Message)[]
        {
            (["evaluate", "--model", "digits"], "digits is a folder; expected a model file."),
            (["train", "--resume", "digits", "--quiet"], "digits is a folder; expected a model file."),
            (["export", "digits", "m.onnx"], "digits is a folder; expected a model file."),
            (["plot", "digits"], "digits is a folder; expected a history CSV."),
        };
        foreach (var (args, message) in cases)
        {
            var r = Dendrite(dir.Path, args);
            AssertPlainError(r.Exit, r.Err, message);
        }
        var p = Dendrite(dir.Path, ["predict", "--model", model, "digits"]);
        AssertPlainError(p.Exit, p.Err, "digits is a folder; expected a PNG, JPEG, BMP, GIF, WebP or PGM picture or an IDX file.");
        Assert.Equal(["digits", model], Directory.EnumerateFileSystemEntries(dir.Path).Select(Path.GetFileName).Order());   // nothing written
    }

    [Fact]
    public void ExportTakesTheModelThenTheOutput()
    {
        using var dir = new TempDir();
        string model = SmallModel(dir);
        var r = Dendrite(dir.Path, ["export", model, "m.onnx"]);
        Assert.True(r.Exit == 0, r.Err);
        Assert.StartsWith($"Exported {model} to m.onnx (ONNX IR 7, opset 13", r.Out);
        var old = Dendrite(dir.Path, ["export", "--onnx", model, "old.onnx"]);         // the order the README used to give
        Assert.True(old.Exit == 0, old.Err);
        Assert.Equal(File.ReadAllBytes(dir.File("m.onnx")), File.ReadAllBytes(dir.File("old.onnx")));
        Assert.Equal(0, Dendrite(dir.Path, ["export", model, "named", "--format", "onnx"]).Exit);
        Assert.Equal(File.ReadAllBytes(dir.File("m.onnx")), File.ReadAllBytes(dir.File("named")));

        var unknown = Dendrite(dir.Path, ["export", model, "m.model"]);
        AssertPlainError(unknown.Exit, unknown.Err, "Cannot tell which format to write m.model in: give --onnx (or --format onnx), or name the output .onnx.");
        var missing = Dendrite(dir.Path, ["export", model, "out/m.onnx"]);
        AssertPlainError(missing.Exit, missing.Err, $"output: out/m.onnx: the folder {Path.Combine(dir.Path, "out")} does not exist (it is not created for you).");
        Assert.False(Directory.Exists(dir.File("out")));
        Assert.False(File.Exists(dir.File("m.model")));
    }

    [Fact]
    public void AModelMeetingOtherDataIsNamedWithTheData()
    {
        using var dir = new TempDir();
        string model = SmallModel(dir);
        Assert.Equal("mnist", Sequential.Load(dir.File(model)).DatasetName);

        var fashion = Dendrite(dir.Path, ["evaluate", "--model", model, "--dataset", "fashion-mnist", "--offline"]);   // Debian's dataset-fashion-mnist
        Assert.True(fashion.Exit == 0, fashion.Err);
        Assert.StartsWith($"warning: {model} was trained on mnist; this is fashion-mnist.", fashion.Err);
        Assert.StartsWith("fashion-mnist-test: 10,000 images", fashion.Out);
        var same = Dendrite(dir.Path, ["evaluate", "--model", model]);
        Assert.Equal("", same.Err);

        // A data set of three classes (a CSV of label and 784 pixels per line)
        var rows = Enumerable.Range(0, 30).Select(i => $"{i % 3}," + string.Join(",", Enumerable.Repeat(i * 8 % 256, 784)));
        File.WriteAllLines(dir.File("three_train.csv"), rows);
        var three = Dendrite(dir.Path, ["evaluate", "--model", model, "--dataset", "three_train.csv"]);
        AssertPlainError(three.Exit, three.Err, $"{model} predicts 10 classes (it was trained on mnist), but three_train has 3: the model and the data do not match.");
        Assert.Equal("", three.Out);
    }

    [Fact]
    public void PredictOnManyImagesEndsWithCountsAndTheAccuracy()
    {
        using var dir = new TempDir();
        string model = SmallModel(dir);
        var test = ModelTests.Data.Value.Test.Take(30);
        using (var f = File.Create(dir.File("some-images-idx3-ubyte"))) Idx.Write(f, [30, 28, 28], test.Images);
        using (var f = File.Create(dir.File("some-labels-idx1-ubyte"))) Idx.Write(f, [30], test.Labels);
        var px = new byte[28 * 28];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)(255 - test.Image(0)[i]);
        Png.Save(new Image(28, 28, 1, px), dir.File("seven.png"));

        var r = Dendrite(dir.Path, ["predict", "--model", model, "some-images-idx3-ubyte", "seven.png"]);
        Assert.True(r.Exit == 0, r.Err);
        var lines = r.Out.TrimEnd().Split('\n');
        Assert.Equal(33, lines.Length);                            // 31 predictions, then the summary
        var predicted = Sequential.Load(dir.File(model)).PredictClasses(test.ImagesAsTensor()).Select(p => p.Index).ToArray();
        var counts = predicted.Append(PngClass(lines[30])).GroupBy(c => c).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}");
        Assert.Equal($"31 images predicted: {string.Join("  ", counts)}", lines[31]);
        int correct = predicted.Where((p, i) => p == test.Labels[i]).Count();
        Assert.Equal($"Accuracy: {100.0 * correct / 30:F2}% ({correct} of 30 labelled images, labels from some-labels-idx1-ubyte)", lines[32]);
    }

    private static int PngClass(string line) => int.Parse(Regex.Match(line, @"^seven\.png: (\d) ").Groups[1].Value);

    [Fact]
    public void NoColourOrBoldUnlessATerminalWithoutNoColor()
    {
        using var dir = new TempDir();
        var sgr = new Regex(@"\x1b\[[0-9;]*m");
        var piped = Dendrite(dir.Path, ["datasets"]);
        Assert.Equal(0, piped.Exit);
        Assert.DoesNotContain('\x1b', piped.Out);
        // On a terminal (a pseudo-terminal from script(1)): colour, unless NO_COLOR is set.
        string command = $"dotnet {Cli} datasets";
        var tty = Run("script", ["-qec", command, "/dev/null"], ("TERM", "xterm-256color"));
        Assert.Matches(sgr, tty);
        var noColor = Run("script", ["-qec", command, "/dev/null"], ("TERM", "xterm-256color"), ("NO_COLOR", "1"));
        Assert.Contains("fashion-mnist", noColor);
        Assert.DoesNotMatch(sgr, noColor);
    }

    private static string Run(string program, string[] args, params (string Name, string Value)[] env)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (n, v) in env) psi.Environment[n] = v;
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{program} failed: {err.Result}");
        return output;
    }

    [Fact]
    public void TablesKeepLongPathsWholeInPipes()
    {
        using var dir = new TempDir();
        string cache = Path.Combine(dir.Path, "a-cache-folder-with-a-name-long-enough-that-an-80-column-table-would-have-to-wrap-it");
        var r = Dendrite(dir.Path, ["datasets"], ("XDG_CACHE_HOME", cache), ("DENDRITE_DATA", ""));
        Assert.Equal(0, r.Exit);
        Assert.Contains($"missing: downloads to {Path.Combine(cache, "dendrite", "notmnist")} ", r.Out);
        Assert.DoesNotContain('\x1b', r.Out);
    }
}
