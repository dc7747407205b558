using Dendrite.Layers;
using Dendrite.Losses;
using Dendrite.Models;

namespace Dendrite.Tests;

/// <summary>
/// Every op, layer and loss: the gradient from Backward() against central finite differences of the
/// forward pass. Each check reduces the op's output to a scalar through a fixed random weighting, so
/// every output element's gradient path is exercised.
/// </summary>
[Trait("Category", "VectorPaths")]
public class GradientCheckTests
{
    /// <summary>Checks d(Σ R ⊙ f(inputs))/d(input) for every element of every input.</summary>
    internal static void Check(Func<Variable[], Node> build, params Tensor[] inputs)
    {
        var vars = inputs.Select((t, i) => new Variable(t.Clone(), $"in{i}")).ToArray();
        var output = build(vars);
        output.Evaluate();
        var rng = new Rng(99);
        Node loss = output;
        if (output.Value.Length != 1 || output.Value.Rank != 0)
        {
            var weights = new Tensor(output.Value.Shape);
            for (int i = 0; i < weights.Length; i++) weights.Span[i] = rng.Uniform(-1, 1);
            loss = Ops.Sum(output * new Constant(weights));
        }
        loss.Backward();
        foreach (var v in vars)
        {
            var analytic = v.Grad.ToArray();
            var x = v.Value.Span;
            int kinks = 0;
            for (int i = 0; i < x.Length; i++)
            {
                float saved = x[i];
                float h = 1e-3f * Math.Max(1f, Math.Abs(saved));
                double center = loss.Evaluate().Span[0];
                x[i] = saved + h; double up = loss.Evaluate().Span[0];
                x[i] = saved - h; double down = loss.Evaluate().Span[0];
                x[i] = saved;
                double numeric = (up - down) / (2 * h);
                double tol = 2e-2 * Math.Max(1, Math.Max(Math.Abs(numeric), Math.Abs(analytic[i])));
                // A step that crosses a kink (ReLU at 0) makes the one-sided slopes disagree: skip it, but not too often.
                double right = (up - center) / h, left = (center - down) / h;
                if (Math.Abs(right - left) > 2 * tol && Math.Abs(numeric - analytic[i]) > tol) { kinks++; continue; }
                Assert.True(Math.Abs(numeric - analytic[i]) <= tol,
                    $"{output.Name}: d/d{v.Name}[{i}] analytic {analytic[i]} vs numeric {numeric}");
            }
            Assert.True(kinks <= x.Length / 4, $"{output.Name}: {kinks} of {x.Length} elements of {v.Name} sat on a kink");
        }
    }

    internal static Tensor Rand(ulong seed, params int[] shape) => Rand(seed, -1, 1, shape);

    internal static Tensor Rand(ulong seed, float lo, float hi, params int[] shape)
    {
        var rng = new Rng(seed);
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++) t.Span[i] = rng.Uniform(lo, hi);
        return t;
    }

    /// <summary>Values at least 0.1 away from 0, where ReLU's kink would break a finite difference.</summary>
    internal static Tensor AwayFromZero(ulong seed, params int[] shape)
    {
        var t = Rand(seed, shape);
        var s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = s[i] >= 0 ? s[i] + 0.1f : s[i] - 0.1f;
        return t;
    }

    internal static Tensor OneHot(ulong seed, int rows, int cols)
    {
        var rng = new Rng(seed);
        var t = new Tensor(rows, cols);
        for (int r = 0; r < rows; r++) t[r, rng.NextInt(cols)] = 1;
        return t;
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void MatMul(bool ta, bool tb) =>
        Check(v => Ops.MatMul(v[0], v[1], ta, tb), Rand(1, ta ? 4 : 3, ta ? 3 : 4), Rand(2, tb ? 5 : 4, tb ? 4 : 5));

    [Fact] public void MatMulWideEnoughForThePackedKernel() => Check(v => Ops.MatMul(v[0], v[1]), Rand(1, 9, 6), Rand(2, 6, 40));
    [Fact] public void AddSameShape() => Check(v => v[0] + v[1], Rand(1, 3, 4), Rand(2, 3, 4));
    [Fact] public void AddBroadcastRow() => Check(v => v[0] + v[1], Rand(1, 3, 4), Rand(2, 4));
    [Fact] public void AddBroadcastRowOnTheLeft() => Check(v => v[1] + v[0], Rand(1, 3, 4), Rand(2, 4));
    [Fact] public void AddScalar() => Check(v => v[0] + v[1], Rand(1, 3, 4), Tensor.Scalar(0.5f));
    [Fact] public void Subtract() => Check(v => v[0] - v[1], Rand(1, 3, 4), Rand(2, 4));
    [Fact] public void Multiply() => Check(v => v[0] * v[1], Rand(1, 3, 4), Rand(2, 3, 4));
    [Fact] public void MultiplyBroadcast() => Check(v => v[0] * v[1], Rand(1, 3, 4), Rand(2, 4));
    [Fact] public void Scale() => Check(v => v[0] * 2.5f, Rand(1, 3, 4));
    [Fact] public void Negate() => Check(v => -v[0], Rand(1, 3, 4));
    [Fact] public void Relu() => Check(v => Ops.Relu(v[0]), AwayFromZero(1, 3, 4));
    [Fact] public void Tanh() => Check(v => Ops.Tanh(v[0]), Rand(1, 3, 4));
    [Fact] public void Sigmoid() => Check(v => Ops.Sigmoid(v[0]), Rand(1, 3, 4));
    [Fact] public void Exp() => Check(v => Ops.Exp(v[0]), Rand(1, 3, 4));
    [Fact] public void Log() => Check(v => Ops.Log(v[0]), Rand(1, 0.5f, 2f, 3, 4));
    [Fact] public void Square() => Check(v => Ops.Square(v[0]), Rand(1, 3, 4));
    [Fact] public void Softmax() => Check(v => Ops.Softmax(v[0]), Rand(1, 3, 5));
    [Fact] public void LogSoftmax() => Check(v => Ops.LogSoftmax(v[0]), Rand(1, 3, 5));
    [Fact] public void Sum() => Check(v => Ops.Sum(v[0]), Rand(1, 3, 4));
    [Fact] public void Mean() => Check(v => Ops.Mean(v[0]), Rand(1, 3, 4));
    [Fact] public void SumAxis0() => Check(v => Ops.Sum(v[0], 0), Rand(1, 3, 4));
    [Fact] public void SumAxis1() => Check(v => Ops.Sum(v[0], 1), Rand(1, 3, 4));
    [Fact] public void MeanAxis0() => Check(v => Ops.Mean(v[0], 0), Rand(1, 3, 4));
    [Fact] public void MeanAxisLast() => Check(v => Ops.Mean(v[0], -1), Rand(1, 3, 4));
    [Fact] public void Divide() => Check(v => Ops.Divide(v[0], v[1]), Rand(1, 3, 4), Rand(2, 0.5f, 2f, 3, 4));
    [Fact] public void DivideBroadcastRow() => Check(v => Ops.Divide(v[0], v[1]), Rand(1, 3, 4), Rand(2, 0.5f, 2f, 4));
    [Fact] public void DivideByScalar() => Check(v => Ops.Divide(v[0], v[1]), Rand(1, 3, 4), Tensor.Scalar(-1.5f));
    [Fact] public void CastToFloatPassesTheGradient() => Check(v => Ops.Cast(v[0]) * v[0], Rand(1, 3, 4));

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(-2)]
    public void SumAndMeanOverAnyAxisOfRank3(int axis)
    {
        Check(v => Ops.Sum(v[0], axis), Rand(1, 2, 3, 4));
        Check(v => Ops.Mean(v[0], axis), Rand(1, 2, 3, 4));
    }

    [Fact] public void Reshape() => Check(v => Ops.Reshape(v[0], -1, 12) * v[1], Rand(1, 2, 3, 4), Rand(2, 12));

    [Theory]
    [InlineData("linear")]
    [InlineData("relu")]
    [InlineData("tanh")]
    [InlineData("sigmoid")]
    public void DenseFused(string activation) =>
        Check(v => Ops.Dense(v[0], v[1], v[2], activation), AwayFromZero(1, 5, 6), Rand(2, 6, 40), Rand(3, 0.5f, 1f, 40));

    [Fact] public void DenseWithoutBias() => Check(v => Ops.Dense(v[0], v[1], null, "tanh"), Rand(1, 5, 6), Rand(2, 6, 3));
    [Fact] public void SoftmaxCrossEntropy() => Check(v => Ops.SoftmaxCrossEntropy(v[0], new Constant(OneHot(7, 4, 5))), Rand(1, 4, 5));

    [Fact]
    public void SparseSoftmaxCrossEntropy() =>
        Check(v => Ops.SparseSoftmaxCrossEntropy(v[0], new Constant(new Tensor([0f, 3f, 1f, 4f], 4))), Rand(1, 4, 5));

    [Fact]
    public void CategoricalCrossEntropyOnProbabilities() =>
        Check(v => Ops.CategoricalCrossEntropy(Ops.Softmax(v[0]), new Constant(OneHot(7, 4, 5))), Rand(1, 4, 5));

    [Fact] public void BinaryCrossEntropy() => Check(v => Ops.BinaryCrossEntropy(Ops.Sigmoid(v[0]), new Constant(Rand(4, 0f, 1f, 4, 3))), Rand(1, 4, 3));
    [Fact] public void MeanSquaredError() => Check(v => Ops.MeanSquaredError(v[0], new Constant(Rand(4, 4, 3))), Rand(1, 4, 3));
    [Fact] public void QuadraticCost() => Check(v => Ops.QuadraticCost(v[0], new Constant(Rand(4, 4, 3))), Rand(1, 4, 3));

    public static TheoryData<string> LossNames => new() { "categorical_crossentropy", "mean_squared_error", "quadratic", "binary_crossentropy" };

    /// <summary>Each named loss as the model builds it: after a softmax (fused for cross-entropy) and after a sigmoid.</summary>
    [Theory]
    [MemberData(nameof(LossNames))]
    public void NamedLossesThroughSoftmaxAndSigmoid(string name)
    {
        Loss loss = name;
        var targets = new Constant(name == "binary_crossentropy" ? Rand(4, 0f, 1f, 4, 5) : OneHot(7, 4, 5));
        Check(v => loss.Build(Ops.Softmax(v[0]), targets).loss, Rand(1, 4, 5));
        Check(v => loss.Build(Ops.Sigmoid(v[0]), targets).loss, Rand(2, 4, 5));
    }

    [Fact]
    public void SparseCategoricalCrossEntropyFusedAndOnProbabilities()
    {
        Loss loss = "sparse_categorical_crossentropy";
        var labels = new Constant(new Tensor([0f, 3f, 1f, 4f], 4));
        Check(v => loss.Build(Ops.Softmax(v[0]), labels).loss, Rand(1, 4, 5));
        Check(v => loss.Build(Ops.Sigmoid(v[0]), labels).loss, Rand(2, 4, 5));
    }

    /// <summary>Layers through the model's own graph: gradients reach the input and every weight.</summary>
    [Theory]
    [InlineData("relu")]
    [InlineData("tanh")]
    [InlineData("sigmoid")]
    [InlineData("softmax")]
    [InlineData("linear")]
    public void LayersOfASequentialModel(string activation)
    {
        var model = new Sequential(new Flatten(inputShape: [2, 3]), new Rescaling(0.5f, 0.1f), new Dense(7, activation), new Activation("tanh"), new Dense(3)) { Seed = 3 };
        model.Build(2, 3);
        Check(v =>
        {
            Node h = v[0];
            foreach (var layer in model.Layers) h = layer.Call(h, model.Training);
            return h;
        }, AwayFromZero(1, 4, 2, 3));
        // and with respect to the weights themselves
        var x = new Constant(AwayFromZero(5, 4, 2, 3));
        var dense = (Dense)model.Layers[2];
        Check(v => Ops.Dense(Ops.Reshape(x, -1, 6) * 0.5f, v[0], v[1], activation == "softmax" ? "linear" : activation), dense.Kernel.Value, dense.Bias!.Value);
    }

    [Fact]
    public void GradientsAccumulateWhenANodeFeedsTwoOps() =>
        Check(v => Ops.Tanh(v[0]) * v[0] + Ops.MatMul(v[0], v[0], false, true), Rand(1, 3, 3));
}
