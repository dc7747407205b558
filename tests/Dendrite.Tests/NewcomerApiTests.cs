using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Neurons;
using Dendrite.Optimizers;

namespace Dendrite.Tests;

/// <summary>The lines a Keras, TensorFlow or NumPy user writes first, from the tutorials' text (issue 12).</summary>
public class NewcomerApiTests
{
    private static Tensor Range(params int[] shape)
    {
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++) t.Span[i] = i;
        return t;
    }

    [Fact]
    public void ShapesPrintAsKerasDoesAndStandInForIntArrays()
    {
        var x = new Tensor(600, 28, 28);
        Assert.Equal("(600, 28, 28)", x.Shape.ToString());
        Assert.Equal("(10,)", new Tensor(10).Shape.ToString());
        Assert.Equal("()", Tensor.Scalar(1).Shape.ToString());
        Assert.Equal("x: (600, 28, 28)", $"x: {x.Shape}");
        int[] copy = x.Shape;                     // an int[] as before: a copy
        copy[0] = 5;
        Assert.Equal(600, x.Shape[0]);
        Assert.Equal(3, x.Shape.Length);
        Assert.Equal(28, x.Shape[^1]);
        Assert.Equal(new Shape(28, 28), x.Shape[1..]);
        var (n, h, w) = x.Shape;
        Assert.Equal((600, 28, 28), (n, h, w));
        Shape s = [600, 28, 28];
        Assert.True(s == x.Shape);
        Assert.Equal([600, 28, 28], x.Shape.ToArray());
        Assert.Equal(470400, x.Shape.ElementCount);
        Assert.Throws<InvalidOperationException>(() => { var (a, b) = x.Shape; });
    }

    [Fact]
    public void IndexingGivesItemsAsViews()
    {
        var x = Range(4, 2, 3);
        var first = x[0];
        Assert.Equal("(2, 3)", first.Shape.ToString());
        Assert.Equal([0f, 1, 2, 3, 4, 5], first.ToArray());
        Assert.Equal([18f, 19, 20, 21, 22, 23], x[^1].ToArray());
        first.Span[0] = 100;                       // a view: writes reach x
        Assert.Equal(100f, x.Span[0]);
        var middle = x[1..3];
        Assert.Equal("(2, 2, 3)", middle.Shape.ToString());
        Assert.Equal(Enumerable.Range(6, 12).Select(i => (float)i), middle.ToArray());
        Assert.Equal(8f, (float)x[1][0][2]);       // item of item of item: an element, read as a float
        Assert.Equal(8f, (float)middle[0][0][2]);  // views of views keep their place
        x[2] = Range(2, 3);                        // setting an item copies a tensor of its shape in
        Assert.Equal([0f, 1, 2, 3, 4, 5], x[2].ToArray());
        var v = Range(5);
        v[3] = Tensor.Scalar(7.5f);                // a vector's items are its elements
        float e = v[3];
        Assert.Equal(7.5f, e);
        Assert.Equal(0, x[0..0].Count);
        Assert.Contains("Fill", Assert.Throws<ArgumentException>(() => x[0] = Tensor.Scalar(1f)).Message);
        Assert.Contains("^", Assert.Throws<IndexOutOfRangeException>(() => x[-1]).Message);
        Assert.Throws<IndexOutOfRangeException>(() => x[4]);
        Assert.Throws<ArgumentOutOfRangeException>(() => x[3..9]);
        Assert.Contains("holds 6 values", Assert.Throws<InvalidCastException>(() => { float f = x[0]; }).Message);
        var sum = new Placeholder(3);
        var mean = Ops.Mean(sum);
        sum.Feed(new Tensor([1f, 2f, 6f], 1, 3));
        float m = mean.Evaluate();                 // a rank-0 value reads as a float without [0]
        Assert.Equal(3f, m);
        Assert.Equal("3.00", $"{mean.Value:F2}");
        Assert.Equal(3f, (float)mean.Value[0]);    // and [0] on a scalar still works
    }

    [Fact]
    public void ArithmeticBroadcastsAsTheGraphDoes()
    {
        var x = Range(2, 3);
        var pixels = (x + 250f) / 255f;
        for (int i = 0; i < 6; i++) Assert.Equal((i + 250f) / 255f, pixels.Span[i]);   // true division, elementwise
        Assert.Equal([0f, 2, 4, 6, 8, 10], (x * 2).ToArray());
        var row = new Tensor([10f, 20f, 30f], 3);
        Assert.Equal([-10f, -19, -28, -7, -16, -25], (x - row).ToArray());
        Assert.Equal([10f, 19, 28, 7, 16, 25], (row - x).ToArray());     // either side may be the smaller
        Assert.Equal([1f, 0, -1, -2, -3, -4], (1f - x).ToArray());
        Assert.Equal([0f, 0.05f, 2f / 30, 0.3f, 0.2f, 5f / 30], (x / row).ToArray());
        Assert.Equal([-0f, -1, -2, -3, -4, -5], (-x).ToArray());
        Assert.Equal(x.ToArray(), (x + x - x).ToArray());
        Assert.Equal([0f, 1, 2, 3, 4, 5], x.ToArray());                  // operands are unchanged
        Assert.Contains("(2, 3) and (2,)", Assert.Throws<ArgumentException>(() => x + new Tensor(2)).Message);
    }

    [Fact]
    public void GraphOpsOfTheTensorFlowTutorial()
    {
        var logits = new Placeholder(4);
        var labels = new Placeholder(4);
        var accuracy = Ops.Mean(Ops.Cast(Ops.Equal(Ops.ArgMax(logits, 1), Ops.ArgMax(labels, 1))));
        logits.Feed(Tensor.FromArray(new float[,] { { 0, 5, 1, 2 }, { 9, 1, 1, 1 }, { 0, 0, 3, 3 }, { 1, 2, 3, 4 }, { float.NaN, 1, 2, 3 } }));
        labels.Feed(Tensor.FromArray(new float[,] { { 0, 1, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 }, { 0, 0, 0, 1 }, { 1, 0, 0, 0 } }));
        Assert.Equal(0.8f, accuracy.Evaluate(), 6);            // row 1 wrong; a tie takes the first index; NaN counts as largest

        var t = new Constant(Range(2, 3, 4));
        Assert.Equal([2f, 2, 2, 2, 2, 2, 2, 2], Ops.ArgMax(t, 1).Evaluate().ToArray());
        Assert.Equal([1f, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], Ops.ArgMax(t, 0).Evaluate().ToArray());
        Assert.Equal("(2, 3)", Ops.ArgMax(t, -1).Evaluate().Shape.ToString());
        var reversed = new Constant(Tensor.FromArray(new float[,] { { 3, 1 }, { 1, 2 }, { 3, 0 } }));
        Assert.Equal([0f, 1], Ops.ArgMax(reversed, 0).Evaluate().ToArray());   // column-wise, first of a tie

        // Sum and Mean over every axis of a rank-3 tensor, against a direct count
        var v = Range(2, 3, 4).ToArray();
        float At(int i, int j, int k) => v[(i * 3 + j) * 4 + k];
        var sum1 = Ops.Sum(t, 1).Evaluate();
        var mean0 = Ops.Mean(t, 0).Evaluate();
        var mean2 = Ops.Mean(t, 2).Evaluate();
        Assert.Equal("(2, 4)", sum1.Shape.ToString());
        for (int i = 0; i < 2; i++) for (int k = 0; k < 4; k++) Assert.Equal(At(i, 0, k) + At(i, 1, k) + At(i, 2, k), sum1.Span[i * 4 + k]);
        for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++) Assert.Equal((At(0, j, k) + At(1, j, k)) / 2, mean0.Span[j * 4 + k]);
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) Assert.Equal((At(i, j, 0) + At(i, j, 1) + At(i, j, 2) + At(i, j, 3)) / 4, mean2.Span[i * 3 + j]);
        Assert.Contains("axis=3", Assert.Throws<ArgumentException>(() => Ops.Sum(t, 3)).Message);

        var c = new Constant(new Tensor([2.7f, -2.7f, 0f, float.NaN, 1e10f], 5));
        Assert.Equal([2f, -2, 0, 0, int.MaxValue], Ops.Cast(c, DType.Int32).Evaluate().ToArray());   // truncated; NaN 0; saturated
        Assert.Equal([1f, 1, 0, 1, 1], Ops.Cast(c, DType.Bool).Evaluate().ToArray());
        Assert.Equal([1f, 0, 0], Ops.Equal(new Constant(new Tensor([1f, 2f, float.NaN], 3)), new Constant(new Tensor([1f, 3f, float.NaN], 3))).Evaluate().ToArray());
    }

    [Fact]
    public void AnUnfedPlaceholderIsNamed()
    {
        var x = new Placeholder(3);
        var e = Assert.Throws<InvalidOperationException>(() => Ops.Sum(x).Evaluate());
        Assert.Contains($"Placeholder `{x.Name}` of shape (None, 3) has not been fed", e.Message);
    }

    [Fact]
    public void MinimizeReturnsTheTrainingStepAndStillTrainsWhenDataIsThere()
    {
        var x = new Placeholder(1);
        var w = new Variable(new Tensor([1f], 1, 1), "w");
        var loss = Ops.Mean(Ops.Square(Ops.MatMul(x, w) - 3f));   // minimum at w = 3 for x = 1
        var sgd = new SGD(0.1f);
        var step = sgd.Minimize(loss);                              // the tutorial's form: nothing fed, so nothing runs
        Assert.Equal(1f, w.Value.Span[0]);
        Assert.Same(step, sgd.Minimize(loss));                      // still nothing fed: still nothing run
        Assert.Equal(1f, w.Value.Span[0]);
        float before = step.Run((x, new Tensor([1f], 1, 1)));       // w -= 0.1·2(w - 3) = 1.4
        Assert.Equal(4f, before);
        Assert.Equal(1.4f, w.Value.Span[0], 6);
        sgd.Minimize(loss);                                          // data is fed: the statement form trains, as before
        Assert.Equal(1.72f, w.Value.Span[0], 5);
        step.Run();
        Assert.Equal(1.976f, w.Value.Span[0], 5);

        var y = new Placeholder(1);
        var two = Ops.Mean(Ops.Square(Ops.MatMul(x, w) - y));
        Assert.Contains($"`{y.Name}`", Assert.Throws<InvalidOperationException>(() => sgd.Minimize(two)).Message);   // x fed, y not: named

        var v = new Variable(new Tensor([1f], 1));
        var noData = new SGD(0.1f).StepFor(Ops.Sum(Ops.Square(v)));  // no placeholders: StepFor builds without running
        Assert.Equal(1f, v.Value.Span[0]);
        noData.Run();
        Assert.Equal(0.8f, v.Value.Span[0], 6);
    }

    [Fact]
    public void NextBatchShufflesEachEpochFromASeed()
    {
        var x = Range(10, 2);
        var y = Datasets.ToCategorical(new Tensor([0f, 1, 2, 0, 1, 2, 0, 1, 2, 0], 10), 3);
        var a = new BatchIterator(x, y, seed: 5);
        var b = new BatchIterator(x, y, seed: 5);
        var seen = new List<float>();
        for (int i = 0; i < 5; i++)
        {
            var (bx, by) = a.NextBatch(4);                          // 20 items: two epochs, one batch straddling them
            Assert.Equal(bx.ToArray(), b.NextBatch(4).X.ToArray());
            Assert.Equal("(4, 2)", bx.Shape.ToString());
            for (int r = 0; r < 4; r++)
            {
                int item = (int)bx[r][0] / 2;
                seen.Add(item);
                Assert.Equal(y[item].ToArray(), by[r].ToArray());    // labels stay with their images
            }
        }
        Assert.Equal(2, a.EpochsCompleted);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (float)i), seen.Take(10).Order());   // each epoch is a permutation
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (float)i), seen.Skip(10).Order());
        Assert.NotEqual(seen.Take(10), seen.Skip(10));                                         // reshuffled
        Assert.NotEqual(seen.Take(10), Enumerable.Range(0, 10).Select(i => (float)i));
        Assert.NotEqual(seen.Take(10), new BatchIterator(x, y, seed: 6).NextBatch(10).X.ToArray().Where((_, i) => i % 2 == 0).Select(f => f / 2));

        var train = ModelTests.Data.Value.Test;
        var (images, labels) = train.NextBatch(100);
        Assert.Equal("(100, 28, 28)", images.Shape.ToString());
        Assert.Equal("(100, 10)", labels.Shape.ToString());
        Assert.True(images.ToArray().Max() <= 1f && images.ToArray().Max() > 0.9f);
        Assert.Equal(100f, labels.ToArray().Sum());
        Assert.Equal(train.ClassNames, labels.ClassNames);
    }

    [Fact]
    public void TheKerasModelSurface()
    {
        var (train, test) = ModelTests.Data.Value;
        var small = train.Take(2000);
        var model = new Sequential(new Flatten(inputShape: [28, 28]), new Rescaling(1f / 255), new Dense(16, activation: "relu"), new Dense(10, activation: "softmax")) { Seed = 2 };
        var printed = new StringWriter();
        model.Summary(printed);
        Assert.Equal(model.SummaryText(), printed.ToString());
        Assert.Contains("Total params: 12,730", printed.ToString());

        model.Compile("categorical_crossentropy", new SGD(0.1f));
        model.Fit(small.ImagesAsTensor(), small.OneHotLabels(), batchSize: 32, epochs: 1, verbose: 0);   // tensors from a Dataset
        Assert.Equal(train.ClassNames, model.ClassNames);                                             // carry its class names

        var xTest = test.Take(500).ImagesAsTensor();
        var yTest = test.Take(500).OneHotLabels();
        var score = model.Evaluate(xTest, yTest);
        var (loss, acc) = model.Evaluate(xTest, yTest);
        Assert.Equal((score[0], score[1]), (loss, acc));
        Assert.Equal(["loss", "accuracy"], Evaluation.Names);
        Assert.Equal([loss, acc], score.ToArray());
        Assert.Throws<IndexOutOfRangeException>(() => score[2]);

        var one = model.Predict(xTest[0]);                         // one item, no batch dimension
        Assert.Equal("(10,)", one.Shape.ToString());
        var batchRow = model.Predict(xTest)[0].ToArray();
        for (int i = 0; i < 10; i++) Assert.Equal(batchRow[i], one.Span[i], 6);   // a one-row product takes another GEMM path: last-bit differences
        Assert.Single(model.PredictClasses(xTest[0]));

        var weights = model.GetWeights();
        Assert.Equal(["(784, 16)", "(16,)", "(16, 10)", "(10,)"], weights.Select(w => w.Shape.ToString()));
        var copy = new Sequential(new Flatten(inputShape: [28, 28]), new Rescaling(1f / 255), new Dense(16, activation: "relu"), new Dense(10, activation: "softmax"));
        copy.SetWeights(weights);
        Assert.Equal(model.Predict(xTest).ToArray(), copy.Predict(xTest).ToArray());
        Assert.Contains("with a list of 3", Assert.Throws<ArgumentException>(() => copy.SetWeights(weights[..3])).Message);

        // The tutorial's hand-set perceptron as a Dense layer: weights 4 and 3, threshold 4 (bias -4)
        var unit = new Dense(1, inputShape: [2]);
        unit.SetWeights(new Tensor([4f, 3f], 2, 1), new Tensor([-4f], 1));
        Assert.Equal(["(2, 1)", "(1,)"], unit.GetWeights().Select(w => w.Shape.ToString()));
        var perceptron = new Sequential(unit);
        Assert.Equal([-4f, -1f, 0f, 3f], new[] { (0f, 0f), (0f, 1f), (1f, 0f), (1f, 1f) }.Select(p => (float)perceptron.Predict(new Tensor([p.Item1, p.Item2], 2))));
        Assert.Contains("has shape (2, 1)", Assert.Throws<ArgumentException>(() => unit.SetWeights(new Tensor(2), new Tensor(1))).Message);
        Assert.Contains("inputShape", Assert.Throws<InvalidOperationException>(() => new Dense(1).SetWeights(new Tensor(2, 1))).Message);
    }

    /// <summary>Stops training after a given number of steps of the first epoch, as Ctrl+C does.</summary>
    private sealed class StopAfter(int steps) : Callbacks.Callback
    {
        private Sequential? _model;
        public override void OnTrainBegin(Sequential model, Callbacks.TrainingInfo info) => _model = model;
        public override void OnBatchEnd(int epoch, in Callbacks.BatchLogs logs) { if (logs.Step == steps) _model!.StopTraining = true; }
    }

    [Fact]
    public void AResumedPartialEpochReportsTheStepsItRan()
    {
        var data = ModelTests.Data.Value.Test.Take(1000);
        var model = new Sequential(new Flatten(inputShape: [28, 28]), new Dense(10, activation: "softmax")) { Seed = 1 };
        model.Compile("categorical_crossentropy");
        model.Fit(data, batchSize: 100, epochs: 2, verbose: 0, callbacks: [new StopAfter(3)]);
        Assert.Equal(3, model.TrainingState!.StepsDone);
        var output = new StringWriter();
        var epochs = new List<Callbacks.EpochLogs>();
        model.Fit(data, verbose: 0, callbacks: [new Callbacks.ConsoleProgress(output), new EpochRecorder(epochs)], resumeFrom: model.TrainingState);
        var lines = output.ToString().Split('\n');
        Assert.Equal("Epoch 1/2", lines[0]);
        Assert.StartsWith("10/10 [==============================] (resumed at step 3: 7 steps run) - ", lines[1]);
        Assert.Equal("Epoch 2/2", lines[2]);
        Assert.StartsWith("10/10 [==============================] - ", lines[3]);
        Assert.Equal([(3, 7), (0, 10)], epochs.Select(e => (e.FirstStep, e.StepsRun)));
    }

    private sealed class EpochRecorder(List<Callbacks.EpochLogs> into) : Callbacks.Callback
    {
        public override void OnEpochEnd(Callbacks.EpochLogs logs) => into.Add(logs);
    }

    [Fact]
    public void TheDataSetNameTravelsInTheModelFile()
    {
        var (_, test) = ModelTests.Data.Value;
        var model = new Sequential(new Flatten(inputShape: [28, 28]), new Dense(10, activation: "softmax")) { Seed = 1 };
        model.Compile("categorical_crossentropy");
        model.Fit(test.Take(100), epochs: 1, verbose: 0);
        Assert.Equal("mnist", model.DatasetName);
        string path = Path.Combine(Path.GetTempPath(), $"dendrite-{Guid.NewGuid():N}.dendrite");
        try
        {
            model.Save(path);
            Assert.Equal("mnist", Sequential.Load(path).DatasetName);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void APerceptronSaysWhetherItWasGivenAThresholdOrABias()
    {
        var byThreshold = new Perceptron([4, 3], threshold: 4);
        var byBias = new Perceptron([4, 3], bias: -4);
        Assert.Equal(-4f, byThreshold.Bias);
        Assert.Equal(4f, byBias.Threshold);
        Assert.Equal([0, 0, 0, 1], new float[][] { [0, 0], [0, 1], [1, 0], [1, 1] }.Select(x => byThreshold.Output(x)));
        // No public constructor takes a bare number second, so `new Perceptron([4, 3], 4)` is ambiguous and does not compile.
        Assert.DoesNotContain(typeof(Perceptron).GetConstructors(), c => c.GetParameters().Length == 2 && c.GetParameters()[1].ParameterType == typeof(float));
        Assert.Equal(2, typeof(Perceptron).GetConstructors().Length);
    }
}
