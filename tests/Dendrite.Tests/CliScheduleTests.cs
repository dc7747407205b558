using Dendrite.Models;
using Dendrite.Optimizers.Schedules;

namespace Dendrite.Tests;

/// <summary>`dendrite train` with a schedule, early stopping and a plateau rule: honest validation, and settings refused before any data loads.</summary>
public class CliScheduleTests
{
    private static readonly string[] NoData = ["--dataset", "notmnist", "--offline"];

    /// <summary>
    /// Early stopping without --validation-split holds out the last 10% of the training data and says so; the run says
    /// what it validates on, reports the test set once, and the saved model keeps its cosine schedule.
    /// </summary>
    [Fact]
    public void EarlyStoppingValidatesOnHeldOutTrainingDataAndTheScheduleIsSaved()
    {
        using var dir = new TempDir();
        string data = CliTests.SmallMnist(dir, 1000, 200);
        var r = CliTests.Dendrite(dir.Path, "train", "--hidden", "32", "--epochs", "3", "--seed", "1", "--dataset", data,
            "--schedule", "cosine", "--warmup-steps", "4", "--early-stopping", "1", "--save", "m.dendrite", "--report", "rep");
        Assert.True(r.Exit == 0, r.Err);
        Assert.True(r.Err.Contains("--early-stopping selects on the validation loss: holding out the last 10% of the training data"), r.Err);
        Assert.Contains("Validating on the last 10% of the training set (100 images, held out of training)", r.Out);
        Assert.DoesNotContain("val_loss: ", r.Out.Split("Test loss")[1]);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(r.Out, "Test loss"));
        Assert.Contains("Early stopping: ", r.Out);
        var schedule = Assert.IsType<CosineDecay>(Sequential.Load(dir.File("m.dendrite")).Optimizer!.Schedule);
        // 900 training images in batches of 128: 8 updates an epoch, 24 in all, 4 of them warm-up.
        Assert.Equal((0f, 0.1f, 4, 20), (schedule.InitialLearningRate, schedule.WarmupTarget!.Value, schedule.WarmupSteps, schedule.DecaySteps));
        Assert.EndsWith(",learning_rate", File.ReadAllLines(dir.File("rep/history.csv"))[0]);
    }

    [Fact]
    public void WithoutSelectionTheTestSetIsNamedAsCurvesOnly()
    {
        using var dir = new TempDir();
        string data = CliTests.SmallMnist(dir, 600, 100);
        var r = CliTests.Dendrite(dir.Path, "train", "--hidden", "16", "--epochs", "1", "--batch-size", "16", "--seed", "1", "--dataset", data, "--schedule", "exponential", "--decay-rate", "0.5");
        Assert.True(r.Exit == 0, r.Err);
        Assert.Contains("Validating on the test set (100 images) to draw the curves only: nothing selects on it.", r.Out);
    }

    [Theory]
    [InlineData(new[] { "--decay-rate", "0.5" }, "--decay-rate is a setting of --schedule exponential; no --schedule was given.")]
    [InlineData(new[] { "--schedule", "cosine", "--staircase" }, "--staircase is a setting of --schedule exponential; --schedule cosine does not take it.")]
    [InlineData(new[] { "--schedule", "piecewise", "--lr-values", "0.1,0.01" }, "--schedule piecewise needs --boundaries")]
    [InlineData(new[] { "--schedule", "piecewise", "--boundaries", "100", "--lr-values", "0.1" }, "The length of boundaries should be 1 less than the length of values.")]
    [InlineData(new[] { "--schedule", "piecewise", "--boundaries", "100,x", "--lr-values", "0.1" }, "Invalid value received for option --boundaries. Expected comma-separated whole numbers of updates. Received: 100,x.")]
    [InlineData(new[] { "--schedule", "linear" }, "Invalid value received for option --schedule.")]
    [InlineData(new[] { "--schedule", "cosine", "--reduce-lr-on-plateau", "2" }, "--reduce-lr-on-plateau changes the learning rate, which --schedule cosine sets: use one or the other.")]
    [InlineData(new[] { "--early-stopping", "-1" }, "Invalid value received for option --early-stopping. Expected a number of at least 0. Received: -1.")]
    public void BadSettingsAreRefusedBeforeTheDataLoads(string[] args, string message)
    {
        using var dir = new TempDir();
        var r = CliTests.Dendrite(dir.Path, ["train", .. args, .. NoData]);
        Assert.Equal(1, r.Exit);
        Assert.Contains(message, r.Err);
        Assert.Equal("", r.Out);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }
}
