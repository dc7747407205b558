using System.Diagnostics;
using Dendrite.Data;
using Dendrite.Imaging;

namespace Dendrite.Tests;

/// <summary>The README's command-line session, run for real: the dendrite program as a separate process.</summary>
public class CliTests
{
    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "Dendrite.Cli.dll");

    private static (int Exit, string Out, string Err) Dendrite(string workDir, params string[] args)
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
