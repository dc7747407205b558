using Dendrite.Data;
using Dendrite.Neurons;
using Dendrite.Optimizers;

namespace Dendrite.Tests;

public class LowLevelTests
{
    /// <summary>The TensorFlow tutorial's network at the low level: placeholders, variables, matmul, minimize.</summary>
    [Fact]
    public void TheTensorFlowTutorialsTwoHiddenLayerNetworkLearns()
    {
        var (train, test) = Mnist.Load();
        var rng = new Rng(1);
        var x = new Placeholder(784);
        var y = new Placeholder(10);
        var w1 = new Variable([784, 64], "truncated_normal", rng); var b1 = new Variable(new Tensor(64));
        var w2 = new Variable([64, 32], "truncated_normal", rng); var b2 = new Variable(new Tensor(32));
        var w3 = new Variable([32, 10], "truncated_normal", rng); var b3 = new Variable(new Tensor(10));
        var h1 = Ops.Relu(Ops.MatMul(x, w1) + b1);
        var h2 = Ops.Relu(Ops.MatMul(h1, w2) + b2);
        var logits = Ops.MatMul(h2, w3) + b3;
        var loss = Ops.SoftmaxCrossEntropy(logits, y);
        var sgd = new SGD(0.5f);
        var xs = train.ImagesAsTensor(1f / 255).Reshape(-1, 784);
        var ys = train.OneHotLabels();
        var xb = new Tensor(100, 784); var yb = new Tensor(100, 10);
        for (int i = 0; i < 300; i++)
        {
            int start = i * 100 % 60000;
            xs.Span.Slice(start * 784, 100 * 784).CopyTo(xb.Span);
            ys.Span.Slice(start * 10, 100 * 10).CopyTo(yb.Span);
            x.Feed(xb); y.Feed(yb);
            sgd.Minimize(loss);
        }
        x.Feed(test.ImagesAsTensor(1f / 255).Reshape(-1, 784));
        var scores = logits.Evaluate();
        int correct = 0;
        for (int r = 0; r < test.Count; r++) if (Kernels.ArgMax(scores.Row(r)) == test.Labels[r]) correct++;
        Assert.True(correct / (double)test.Count > 0.90, $"accuracy {correct / (double)test.Count}");
    }

    [Fact]
    public void PlaceholdersCheckTheShapeTheyAreFed()
    {
        var x = new Placeholder(784);
        var e = Assert.Throws<ArgumentException>(() => x.Feed(new Tensor(3, 785)));
        Assert.Contains("(None, 784)", e.Message);
        Assert.Contains("(3, 785)", e.Message);
    }

    [Fact]
    public void MatMulShapesAreCheckedWhenTheGraphIsBuilt()
    {
        var e = Assert.Throws<ArgumentException>(() => Ops.MatMul(new Placeholder(784), new Variable(new Tensor(100, 10))));
        Assert.Contains("inner dimensions 784 and 100", e.Message);
    }

    [Fact]
    public void BackwardNeedsAScalar()
    {
        var v = new Variable(new Tensor(2, 2));
        Assert.Contains("scalar", Assert.Throws<InvalidOperationException>(() => Ops.Tanh(v).Backward()).Message);
    }

    [Fact]
    public void SgdMomentumFollowsKerasFormula()
    {
        // w = 1, loss = w² (g = 2w), lr 0.1, momentum 0.9: v1 = -0.2, w1 = 0.8; g = 1.6, v2 = -0.18 - 0.16 = -0.34, w2 = 0.46
        var w = new Variable(new Tensor([1f], 1));
        var loss = Ops.Sum(Ops.Square(w));
        var sgd = new SGD(0.1f, momentum: 0.9f);
        sgd.Minimize(loss);
        Assert.Equal(0.8f, w.Value[0], 5);
        sgd.Minimize(loss);
        Assert.Equal(0.46f, w.Value[0], 5);
        // Nesterov: w += m·v - lr·g. Step 1: v = -0.2, w = 1 - 0.18 - 0.2 = 0.62
        var w2 = new Variable(new Tensor([1f], 1));
        new SGD(0.1f, 0.9f, nesterov: true).Minimize(Ops.Sum(Ops.Square(w2)));
        Assert.Equal(0.62f, w2.Value[0], 5);
    }

    [Fact]
    public void GlorotUniformStaysWithinItsLimit()
    {
        var t = Initializer.GlorotUniform.Create([784, 1024], new Rng(1));
        float limit = MathF.Sqrt(6f / (784 + 1024));
        Assert.All(t.ToArray(), v => Assert.InRange(v, -limit, limit));
        Assert.InRange(t.ToArray().Max(), limit * 0.99f, limit);
        var n = Initializer.HeNormal.Create([1000, 100], new Rng(2)).ToArray();
        double sd = Math.Sqrt(n.Select(v => (double)v * v).Average());
        Assert.InRange(sd, Math.Sqrt(2.0 / 1000) * 0.95, Math.Sqrt(2.0 / 1000) * 1.05);
    }
}

public class NeuronTests
{
    [Fact]
    public void TheGoToFranceExample()
    {
        // weather (weight 4) and company (weight 3), threshold 4: go only when the weighted sum exceeds it
        var p = Perceptron.WithThreshold([4, 3], threshold: 4);
        Assert.Equal(0, p.Output([0, 0]));
        Assert.Equal(0, p.Output([1, 0]));   // 4 is not more than 4
        Assert.Equal(0, p.Output([0, 1]));
        Assert.Equal(1, p.Output([1, 1]));
    }

    [Fact]
    public void ThePerceptronRuleLearnsAndAndOr()
    {
        float[][] x = [[0, 0], [0, 1], [1, 0], [1, 1]];
        var and = new Perceptron([0, 0], bias: 0);
        var mistakes = and.Train(x, [0, 0, 0, 1]);
        Assert.Equal(0, mistakes[^1]);
        Assert.Equal([0, 0, 0, 1], x.Select(v => and.Output(v)));
        var or = new Perceptron([0, 0], bias: 0);
        or.Train(x, [0, 1, 1, 1]);
        Assert.Equal([0, 1, 1, 1], x.Select(v => or.Output(v)));
    }

    [Fact]
    public void ThePerceptronCannotLearnXor()
    {
        float[][] x = [[0, 0], [0, 1], [1, 0], [1, 1]];
        var mistakes = new Perceptron([0, 0], bias: 0).Train(x, [0, 1, 1, 0], epochs: 50);
        Assert.Equal(50, mistakes.Count);
        Assert.True(mistakes[^1] > 0);
    }

    [Fact]
    public void ASigmoidNeuronLearnsByGradientDescent()
    {
        float[][] x = [[0, 0], [0, 1], [1, 0], [1, 1]];
        var n = new SigmoidNeuron([0, 0], 0);
        Assert.Equal(0.5f, n.Output([1, 1]));
        var costs = n.Train(x, [0, 1, 1, 1], learningRate: 5, epochs: 2000);
        Assert.True(costs[^1] < costs[0] / 10);
        Assert.True(n.Output([0, 0]) < 0.3f && n.Output([1, 1]) > 0.9f);
    }
}
