using System.Diagnostics;
using Dendrite.Data;
using Dendrite.Imaging;

namespace Dendrite.Tests;

/// <summary>The README's command-line session, run for real: the dendrite program as a separate process.</summary>
public class CliTests
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "Dendrite.Cli.dll");

    internal static (int Exit, string Out, string Err) Dendrite(string workDir, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Cli);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.Result);
    }

    [Fact]
    public void TrainSaveEvaluatePredictExportAndPlot()
    {
        using var dir = new TempDir();
        var train = Dendrite(dir.Path, "train", "--epochs", "2", "--hidden", "64", "--seed", "1", "--save", "m.dendrite", "--report", "rep", "--quiet");
        Assert.True(train.Exit == 0, train.Err);
        Assert.Matches(@"Test loss: 0\.\d+ - test accuracy: 0\.9\d+", train.Out);
        Assert.True(File.Exists(dir.File("rep/report.html")));

        var eval = Dendrite(dir.Path, "evaluate", "--model", "m.dendrite");
        Assert.Equal(0, eval.Exit);
        string accuracy = System.Text.RegularExpressions.Regex.Match(train.Out, @"test accuracy: (0\.\d+)").Groups[1].Value;
        Assert.Contains($"accuracy: {accuracy}", eval.Out);                  // the saved model is the trained one

        // A test digit drawn dark on light, three times larger, as a person's PNG would be.
        var digit = ModelTests.Data.Value.Test.Image(0);                      // a 7
        var px = new byte[84 * 84];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)(255 - digit[i / 84 / 3 * 28 + i % 84 / 3]);
        Png.Save(new Image(84, 84, 1, px), dir.File("seven.png"));
        var predict = Dendrite(dir.Path, "predict", "--model", "m.dendrite", "seven.png");
        Assert.Equal(0, predict.Exit);
        Assert.StartsWith("seven.png: 7 (", predict.Out);

        var export = Dendrite(dir.Path, "export", "--onnx", "m.dendrite", "m.onnx");
        Assert.Equal(0, export.Exit);
        Assert.True(new FileInfo(dir.File("m.onnx")).Length > 200_000);

        var plot = Dendrite(dir.Path, "plot", "rep/history.csv", "--out", "again");
        Assert.Equal(0, plot.Exit);
        Assert.True(File.Exists(dir.File("again/loss_per_epoch.png")));
    }

    /// <summary>A folder of IDX files holding the first <paramref name="trainCount"/> training and <paramref name="testCount"/> test images of MNIST.</summary>
    internal static string SmallMnist(TempDir dir, int trainCount, int testCount)
    {
        string folder = dir.File("small-mnist");
        Directory.CreateDirectory(folder);
        var (train, test) = ModelTests.Data.Value;
        foreach (var (set, prefix) in new[] { (train.Take(trainCount), "train"), (test.Take(testCount), "t10k") })
        {
            using (var f = File.Create(Path.Combine(folder, $"{prefix}-images-idx3-ubyte"))) Idx.Write(f, [set.Count, 28, 28], set.Images);
            using (var f = File.Create(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte"))) Idx.Write(f, [set.Count], set.Labels);
        }
        return folder;
    }

    [Fact]
    public void ConvolutionalNetworksFromTheCommandLine()
    {
        using var dir = new TempDir();
        string data = SmallMnist(dir, 3000, 500);
        var train = Dendrite(dir.Path, "train", "--arch", "convnet", "--epochs", "2", "--lr", "0.003", "--seed", "2", "--dataset", data, "--save", "c.dendrite", "--report", "rep", "--quiet");
        Assert.True(train.Exit == 0, train.Err);
        var acc = double.Parse(System.Text.RegularExpressions.Regex.Match(train.Out, @"test accuracy: (0\.\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(acc > 0.85, train.Out);
        Assert.True(File.Exists(dir.File("rep/conv_filters.png")) && File.Exists(dir.File("rep/conv_feature_maps.png")));
        Assert.Contains("What the first convolution looks for", File.ReadAllText(dir.File("rep/report.html")));

        var summary = Dendrite(dir.Path, "summary", "--model", "c.dendrite");
        Assert.Contains("conv2d_1 (Conv2D)", summary.Out);
        Assert.Contains("Total params: 34,826", summary.Out);
        Assert.Equal(0, Dendrite(dir.Path, "evaluate", "--model", "c.dendrite", "--dataset", data).Exit);
        Assert.Equal(0, Dendrite(dir.Path, "export", "--onnx", "c.dendrite", "c.onnx").Exit);

        var custom = Dendrite(dir.Path, "train", "--layers", "conv(8, 3, same, strides=2) batchnorm(momentum=0.9) maxpool(2) gap dense(16, tanh)", "--epochs", "2", "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9", "--seed", "1", "--dataset", data, "--quiet");
        Assert.True(custom.Exit == 0, custom.Err);
        var summaryCustom = Dendrite(dir.Path, "summary", "--layers", "conv(8, 3, same, strides=2) batchnorm maxpool(2) gap dense(16, tanh)");
        Assert.Contains("(None, 14, 14, 8)", summaryCustom.Out);
        Assert.Contains("global_average_pooling2d", summaryCustom.Out);

        var bad = Dendrite(dir.Path, "train", "--layers", "conv(8) pool", "--quiet");
        Assert.Equal(1, bad.Exit);
        Assert.Contains("Layer `conv` in --layers needs `kernel_size`", bad.Err);
        bad = Dendrite(dir.Path, "train", "--arch", "convnet", "--hidden", "64", "--quiet");
        Assert.Equal(1, bad.Exit);
        Assert.Contains("--hidden sets the dense layers of --arch mlp", bad.Err);
        bad = Dendrite(dir.Path, "train", "--arch", "convnet", "--momentum", "0.9", "--quiet");   // the recipe's optimizer is Adam
        Assert.Equal(1, bad.Exit);
        Assert.Contains("--momentum is a setting of sgd and rmsprop; --optimizer adam does not take it.", bad.Err);
    }

    /// <summary>--optimizer adam trains with Keras's Adam (its own default learning rate), is saved in the checkpoint, and resumes with it.</summary>
    [Fact]
    public void AdamFromTheCommandLine()
    {
        using var dir = new TempDir();
        string data = SmallMnist(dir, 1000, 300);
        var train = Dendrite(dir.Path, "train", "--optimizer", "adam", "--amsgrad", "--hidden", "32", "--epochs", "2", "--batch-size", "32", "--seed", "2", "--dataset", data,
            "--checkpoint", "ckpt.dendrite", "--report", "rep", "--quiet");
        Assert.True(train.Exit == 0, train.Err);
        var acc = double.Parse(System.Text.RegularExpressions.Regex.Match(train.Out, @"test accuracy: (0\.\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(acc > 0.7, train.Out);   // 64 steps at Adam's 0.001 (chance: 0.1)
        Assert.Contains("amsgrad=True", File.ReadAllText(dir.File("rep/report.html")));
        var resumed = global::Dendrite.Models.Sequential.LoadCheckpoint(dir.File("ckpt.dendrite"), out _);
        var adam = Assert.IsType<global::Dendrite.Optimizers.Adam>(resumed.Optimizer);
        Assert.True(adam.Amsgrad);
        Assert.Equal(64, adam.Iterations);   // 2 epochs of 32 batches
    }

    /// <summary>--l2, --dropout, --optimizer adamw, --weight-decay and --clipnorm build what they say, and the model file keeps them.</summary>
    [Fact]
    public void RegularisationFromTheCommandLine()
    {
        using var dir = new TempDir();
        string data = SmallMnist(dir, 600, 200);
        var train = Dendrite(dir.Path, "train", "--optimizer", "adamw", "--weight-decay", "0.01", "--clipnorm", "1", "--l2", "0.001", "--dropout", "0.3",
            "--hidden", "32,16", "--epochs", "1", "--batch-size", "32", "--seed", "2", "--dataset", data, "--save", "m.dendrite", "--quiet");
        Assert.True(train.Exit == 0, train.Err);
        var model = global::Dendrite.Models.Sequential.Load(dir.File("m.dendrite"));
        var opt = Assert.IsType<global::Dendrite.Optimizers.AdamW>(model.Optimizer);
        Assert.Equal((0.01f, 1f), (opt.WeightDecay, opt.ClipNorm));
        var dense = model.Layers.OfType<global::Dendrite.Layers.Dense>().ToList();
        Assert.Equal(3, dense.Count);
        Assert.All(dense, d => Assert.Equal(0.001f, Assert.IsType<global::Dendrite.Regularizers.L2>(d.KernelRegularizer).L2Factor));
        Assert.Equal([0.3f, 0.3f], model.Layers.OfType<global::Dendrite.Layers.Dropout>().Select(d => d.Rate));
        var bad = Dendrite(dir.Path, "train", "--dropout", "1", "--quiet");
        Assert.Equal(1, bad.Exit);
        Assert.Contains("--dropout", bad.Err);
        bad = Dendrite(dir.Path, "train", "--clipnorm", "1", "--clipvalue", "1", "--quiet");
        Assert.Contains("Give --clipnorm or --clipvalue, not both.", bad.Err);
    }

    [Fact]
    public void BadInputGetsOneClearLineAndExitCode1()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("not-a-model.dendrite"), "hello");
        var r = Dendrite(dir.Path, "evaluate", "--model", "not-a-model.dendrite");
        Assert.Equal(1, r.Exit);
        Assert.StartsWith("error: not-a-model.dendrite: 5 bytes is too short for a safetensors file", r.Err);
        var h = Dendrite(dir.Path, "train", "--hidden", "12,x", "--quiet");
        Assert.Equal(1, h.Exit);
        Assert.Contains("Invalid value received for option --hidden", h.Err);
        var d = Dendrite(dir.Path, "train", "--dataset", "cifar", "--quiet");
        Assert.Contains("Unknown data set `cifar`", d.Err);
    }

    /// <summary>Ctrl+C (SIGINT) mid-run saves a checkpoint and exits; resuming ends with the same model as a run never interrupted.</summary>
    [Fact]
    public async Task CtrlCSavesACheckpointThatResumesExactly()
    {
        using var dir = new TempDir();
        string[] run = ["train", "--epochs", "8", "--hidden", "64", "--batch-size", "32", "--seed", "3", "--momentum", "0.9", "--quiet"];
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = dir.Path, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Cli);
        foreach (var a in run) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("--checkpoint");
        psi.ArgumentList.Add("ckpt.dendrite");
        using (var p = Process.Start(psi)!)
        {
            var output = p.StandardOutput.ReadToEndAsync();
            // The per-epoch checkpoint appears at the end of epoch 1: interrupt then, with seven epochs to go.
            for (int i = 0; i < 600 && !File.Exists(dir.File("ckpt.dendrite")) && !p.HasExited; i++) await Task.Delay(50);
            Assert.False(p.HasExited, "the run ended before it could be interrupted");
            await Process.Start("kill", ["-INT", p.Id.ToString()])!.WaitForExitAsync();
            await p.WaitForExitAsync();
            Assert.Equal(130, p.ExitCode);
            Assert.Contains("Checkpoint saved to ckpt.dendrite", await output);
        }
        var resumed = Dendrite(dir.Path, "train", "--resume", "ckpt.dendrite", "--quiet", "--save", "resumed.dendrite");
        Assert.Contains("Resuming ckpt.dendrite: epoch ", resumed.Out);
        Assert.True(resumed.Exit == 0, resumed.Err);
        var whole = Dendrite(dir.Path, [.. run, "--save", "whole.dendrite"]);
        Assert.Equal(0, whole.Exit);
        Assert.Equal(File.ReadAllBytes(dir.File("whole.dendrite")), File.ReadAllBytes(dir.File("resumed.dendrite")));
    }
}
