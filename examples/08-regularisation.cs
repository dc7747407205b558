#:project ../src/Dendrite/Dendrite.csproj
#:property PublishAot=false
// The post the TensorFlow tutorial promised: it ends on overfitting (train accuracy racing ahead of test accuracy) and
// names regularisation as the next step. Here the tutorial's 784-1024-10 network is trained on only 1,000 MNIST
// images, so it overfits fast, three times from the same initial weights: without regularisation, with an L2 penalty
// on both kernels (Keras's kernel_regularizer "l2": 0.01·Σw²), and with Dropout(0.5) after the hidden layer. Every 20
// iterations it measures accuracy on those 1,000 training images and on the 10,000 test images; the overfitting gap is
// train − test accuracy. Writes docs/regularisation.svg and .png (three charts side by side). Pass a number of
// epochs to run fewer (default 60: 600 iterations of 100).
using Dendrite;
using Dendrite.Callbacks;
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;
using Dendrite.Plotting;

int epochs = args.Length > 0 ? int.Parse(args[0]) : 60;
var (all, test) = Mnist.Load();
var train = all.Take(1000);

var runs = new (string Name, Func<Sequential> Model)[]
{
    ("no regularisation", () => new Sequential(new Flatten(inputShape: [28, 28]), new Rescaling(1f / 255),
        new Dense(1024, "relu"), new Dense(10, "softmax")) { Seed = 1 }),
    ("L2 0.01 on the kernels (Keras \"l2\")", () => new Sequential(new Flatten(inputShape: [28, 28]), new Rescaling(1f / 255),
        new Dense(1024, "relu", kernelRegularizer: "l2"), new Dense(10, "softmax", kernelRegularizer: "l2")) { Seed = 1 }),
    ("dropout 0.5", () => new Sequential(new Flatten(inputShape: [28, 28]), new Rescaling(1f / 255),
        new Dense(1024, "relu"), new Dropout(0.5f), new Dense(10, "softmax")) { Seed = 1 }),
};

var charts = new List<IChart>();
Console.WriteLine($"784-1024-10, SGD 0.1, batch 100, {epochs} epochs on {train.Count:N0} training images; test on {test.Count:N0}");
Console.WriteLine("| run | train accuracy | test accuracy | gap (train − test) | best test accuracy |");
Console.WriteLine("|---|---|---|---|---|");
foreach (var (name, make) in runs)
{
    var model = make();
    model.Compile("categorical_crossentropy", new SGD(0.1f), ["accuracy"]);
    var curves = new AccuracyCurves(train, test, every: 20);
    model.Fit(train, batchSize: 100, epochs: epochs, verbose: 0, seed: 1, callbacks: [curves]);
    double trainAcc = curves.Train[^1], testAcc = curves.Test[^1];
    Console.WriteLine($"| {name} | {trainAcc:P2} | {testAcc:P2} | {(trainAcc - testAcc) * 100:F2} points | {curves.Test.Max():P2} |");
    var chart = new LineChart($"{name}: gap {(trainAcc - testAcc) * 100:F2} points", "iteration", "accuracy") { YMin = 0.8, YMax = 1.0, LegendBottom = true, Width = 520 };
    chart.Series.Add(new Series("train (1,000 images)", curves.Iterations, curves.Train, Color.Series[0]));
    chart.Series.Add(new Series("test (10,000 images)", curves.Iterations, curves.Test, Color.Series[1]));
    charts.Add(chart);
}
string docs = Directory.Exists("docs") ? "docs" : ".";
new ChartRow([.. charts]).Save(Path.Combine(docs, "regularisation"));
Console.WriteLine($"Chart written to {Path.Combine(docs, "regularisation")}.svg and .png");

/// <summary>Accuracy on the training images and on the test images every <c>every</c> iterations (in inference mode: no dropout).</summary>
sealed class AccuracyCurves(Dataset train, Dataset test, int every) : Callback
{
    private Sequential? _model;
    private int _iteration;
    public List<double> Iterations { get; } = [];
    public List<double> Train { get; } = [];
    public List<double> Test { get; } = [];

    public override void OnTrainBegin(Sequential model, TrainingInfo info) => _model = model;

    public override void OnBatchEnd(int epoch, in BatchLogs logs)
    {
        if (++_iteration % every != 0) return;
        Iterations.Add(_iteration);
        Train.Add(_model!.Evaluate(train).Accuracy);
        Test.Add(_model.Evaluate(test).Accuracy);
    }
}
