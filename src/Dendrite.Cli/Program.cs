using System.CommandLine;
using System.Globalization;
using Dendrite;
using Dendrite.Callbacks;
using Dendrite.Cli;
using Dendrite.Data;
using Dendrite.Models;
using Dendrite.Optimizers;
using Spectre.Console;

var net = new NetworkOptions();
var epochs = new Option<int>("--epochs") { Description = "Passes over the training data", DefaultValueFactory = _ => 15 };
var batch = new Option<int>("--batch-size") { Description = "Mini-batch size", DefaultValueFactory = _ => 128 };
var lr = new Option<float>("--lr", "--learning-rate") { Description = "SGD learning rate", DefaultValueFactory = _ => 0.1f };
var momentum = new Option<float>("--momentum") { Description = "SGD momentum (0: plain SGD)", DefaultValueFactory = _ => 0f };
var nesterov = new Option<bool>("--nesterov") { Description = "Nesterov momentum" };
var validationSplit = new Option<float>("--validation-split") { Description = "Fraction of the training data held out for validation (Keras's last-fraction rule)", DefaultValueFactory = _ => 0f };
var threads = new Option<int?>("--threads") { Description = "Kernel threads (default: all cores)" };
var data = new Option<string?>("--data") { Description = "Folder with the four MNIST IDX files (default: the embedded copy)" };
var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress output" };

var train = new Command("train", "Train a dense network on MNIST and report test loss and accuracy");
net.AddTo(train);
foreach (var o in new Option[] { epochs, batch, lr, momentum, nesterov, validationSplit, threads, data, quiet }) train.Add(o);
train.SetAction(r => Cli.Run(() =>
{
    if (r.GetValue(threads) is int t) Parallelism.MaxThreads = t;
    var (trainSet, testSet) = Mnist.Load(r.GetValue(data));
    var model = net.Build(r, trainSet.ItemShape, trainSet.Classes);
    model.Compile(net.GetLoss(r), new SGD(r.GetValue(lr), r.GetValue(momentum), r.GetValue(nesterov)), ["accuracy"]);
    bool q = r.GetValue(quiet);
    if (!q) AnsiConsole.Write(new Text(model.Summary()));
    int ep = r.GetValue(epochs), bs = r.GetValue(batch);
    float vs = r.GetValue(validationSplit);
    History history;
    if (!q && AnsiConsole.Profile.Capabilities.Interactive)
    {
        History? h = null;
        AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx => h = model.Fit(trainSet, bs, ep, verbose: 0, validationSplit: vs, seed: r.GetValue(net.Seed), callbacks: [new SpectreProgress(ctx)]));
        history = h!;
    }
    else history = model.Fit(trainSet, bs, ep, verbose: q ? 0 : 1, validationSplit: vs, seed: r.GetValue(net.Seed));
    var test = model.Evaluate(testSet);
    double perEpoch = history.EpochSeconds.Count > 1 ? history.EpochSeconds.Skip(1).Average() : history.EpochSeconds.DefaultIfEmpty(0).Average();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"Test loss: {test.Loss:F4} - test accuracy: {test.Accuracy:F4} ({test.Accuracy * 100:F2}%) - {perEpoch:F2} s/epoch after the first, {Parallelism.MaxThreads} threads"));
}));

var summary = new Command("summary", "Print the model table (layers, output shapes, parameters) for the network options");
net.AddTo(summary);
summary.SetAction(r => Cli.Run(() =>
{
    var model = net.Build(r, [28, 28], 10);
    Console.Write(model.Summary());
}));

var root = new RootCommand("Dendrite: neural networks in C#. Train, evaluate and inspect networks on MNIST.") { train, summary };
return root.Parse(args).Invoke();

namespace Dendrite.Cli
{
    internal static class Cli
    {
        /// <summary>Runs a command, turning the library's clear errors into one red line and exit code 1.</summary>
        public static int Run(Action action)
        {
            try
            {
                action();
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or InvalidDataFormatException or IOException or TrainingDivergedException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        }
    }
}
