using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;
using Dendrite.Regularizers;

namespace Dendrite.Tests;

/// <summary>Weight penalties (L1, L2, L1L2) and gradient clipping against hand-computed values, Keras's semantics, and the model file.</summary>
public class RegularizationTests
{
    private static readonly float[] W = [0.5f, -1.5f, 0f, 2f, -0.25f, 1e-3f];

    [Fact]
    public void PenaltiesAreKerasFormulasWithKerasDefaults()
    {
        double abs = W.Sum(x => Math.Abs((double)x)), sq = W.Sum(x => (double)x * x);
        Assert.Equal(0.01 * abs, new L1().Penalty(W), 6);
        Assert.Equal(0.01 * sq, new L2().Penalty(W), 6);                 // no ½, as Keras
        Assert.Equal(0.3 * abs + 0.2 * sq, new L1L2(0.3f, 0.2f).Penalty(W), 5);
        Regularizer l2 = "l2", l1l2 = "l1_l2";
        Assert.Equal("L2(l2=0.01)", l2.ToString());
        Assert.Equal("L1L2(l1=0, l2=0)", l1l2.ToString());              // Keras's l1_l2 defaults
        Assert.Contains("Received: regularizer=l3", Assert.Throws<ArgumentException>(() => { Regularizer r = "l3"; }).Message);
        Assert.Contains("l2=-1", Assert.Throws<ArgumentOutOfRangeException>(() => new L2(-1)).Message);
    }

    /// <summary>d/dw of (loss + penalty) against central differences, for each regularizer (L1 away from its kink at 0).</summary>
    [Theory]
    [InlineData(0.3f, 0f)]
    [InlineData(0f, 0.7f)]
    [InlineData(0.2f, 0.5f)]
    public void PenaltyGradientMatchesFiniteDifferences(float l1, float l2)
    {
        float[] w0 = [0.5f, -1.5f, 0.8f, 2f, -0.25f, 0.1f];
        var w = new Variable(new Tensor((float[])w0.Clone(), 6), "w");
        var c = new Constant(new Tensor([1f, 2f, -1f, 0.5f, 3f, -2f], 6));
        var loss = Ops.Sum(Ops.Multiply(w, c)) + Ops.Penalty(w, new L1L2(l1, l2));
        loss.Backward();
        var analytic = w.Grad.ToArray();
        const float h = 1e-2f;
        for (int i = 0; i < w0.Length; i++)
        {
            w.Value.Span[i] = w0[i] + h; float up = loss.Evaluate().Span[0];
            w.Value.Span[i] = w0[i] - h; float down = loss.Evaluate().Span[0];
            w.Value.Span[i] = w0[i];
            Assert.Equal((up - down) / (2 * h), analytic[i], 2);
            Assert.Equal(c.Value.Span[i] + l1 * Math.Sign(w0[i]) + 2 * l2 * w0[i], analytic[i], 5);
        }
    }

    private static Sequential Model(Regularizer? kernel, Regularizer? bias = null) =>
        new(new Dense(4, "relu", inputShape: [3], kernelRegularizer: kernel, biasRegularizer: bias, biasInitializer: Initializer.Constant(0.5f)),
            new Dense(2, "softmax")) { Seed = 3 };

    private static (Tensor X, Tensor Y) Data()
    {
        var x = new Tensor([0.1f, 0.9f, -0.4f, 1f, 0.2f, 0.3f, -0.7f, 0.5f, 0.6f, 0.4f, -0.2f, 0.8f], 4, 3);
        var y = new Tensor([1f, 0, 0, 1f, 1f, 0, 0, 1f], 4, 2);
        return (x, y);
    }

    /// <summary>
    /// The reported loss is the data loss plus the penalty (Keras), and one SGD step with L2 moves the kernel by exactly
    /// lr·2·l2·w more than the same step without it: the penalty's gradient joins the weight's.
    /// </summary>
    [Fact]
    public void TheLossIncludesThePenaltyAndItsGradientJoinsTheWeights()
    {
        var (x, y) = Data();
        var plain = Model(null);
        var reg = Model(new L2(0.05f), new L1(0.1f));
        plain.Compile("categorical_crossentropy", new SGD(0.1f));
        reg.Compile("categorical_crossentropy", new SGD(0.1f));
        plain.Build(3); reg.Build(3);
        var kernel = ((Dense)reg.Layers[0]).Kernel.Value.ToArray();
        var bias = ((Dense)reg.Layers[0]).Bias!.Value.ToArray();
        Assert.Equal(kernel, ((Dense)plain.Layers[0]).Kernel.Value.ToArray());
        double penalty = 0.05 * kernel.Sum(k => (double)k * k) + 0.1 * bias.Sum(b => Math.Abs((double)b));
        Assert.Equal(plain.Evaluate(x, y).Loss + penalty, reg.Evaluate(x, y).Loss, 5);

        var hp = plain.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
        var hr = reg.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0, shuffle: false);
        Assert.Equal(hp.Loss[0] + penalty, hr.Loss[0], 5);
        var kp = ((Dense)plain.Layers[0]).Kernel.Value.ToArray();
        var kr = ((Dense)reg.Layers[0]).Kernel.Value.ToArray();
        for (int i = 0; i < kernel.Length; i++) Assert.Equal(kp[i] - 0.1f * 2 * 0.05f * kernel[i], kr[i], 6);
        var bp = ((Dense)plain.Layers[0]).Bias!.Value.ToArray();
        var br = ((Dense)reg.Layers[0]).Bias!.Value.ToArray();
        for (int i = 0; i < bias.Length; i++) Assert.Equal(bp[i] - 0.1f * 0.1f * Math.Sign(bias[i]), br[i], 6);
    }

    [Fact]
    public void RegularizersAreSavedInTheModelFileAndReadAsNamesOrObjects()
    {
        using var dir = new TempDir();
        var model = new Sequential(new Reshape([4, 4, 1], inputShape: [4, 4]), new Conv2D(2, 3, kernelRegularizer: new L1L2(0.001f, 0.002f)),
            new Flatten(), new Dense(3, "softmax", biasRegularizer: "l1"));
        model.Build(4, 4);
        model.Compile("categorical_crossentropy", "adam");
        model.Save(dir.File("m.dendrite"));
        var back = Sequential.Load(dir.File("m.dendrite"));
        var conv = Assert.IsType<Conv2D>(back.Layers[1]);
        var l1l2 = Assert.IsType<L1L2>(conv.KernelRegularizer);
        Assert.Equal((0.001f, 0.002f), (l1l2.L1Factor, l1l2.L2Factor));
        Assert.Null(conv.BiasRegularizer);
        var dense = Assert.IsType<Dense>(back.Layers[3]);
        Assert.Null(dense.KernelRegularizer);
        Assert.Equal(0.01f, Assert.IsType<L1>(dense.BiasRegularizer).L1Factor);

        string json = Serialization.ModelFile.ConfigJson(model);
        Assert.Contains("\"kernel_regularizer\":{\"class_name\":\"L1L2\",\"config\":{\"l1\":0.001,\"l2\":0.002}}", json);
        List<(string, Tensor)> tensors;
        using (var f = File.OpenRead(dir.File("m.dendrite"))) tensors = Serialization.SafeTensors.Read(f, "m", out _).Tensors.Select(kv => (kv.Key, kv.Value)).ToList();
        string WithKernelRegularizer(string text)
        {
            string path = dir.File("edited.dendrite");
            using var fs = File.Create(path);
            var config = json.Replace("{\"class_name\":\"L1L2\",\"config\":{\"l1\":0.001,\"l2\":0.002}}", text);
            Serialization.SafeTensors.Write(fs, tensors, new Dictionary<string, string> { ["format"] = "dendrite.model", ["format_version"] = "1", ["config"] = config }, checksum: true);
            return path;
        }
        // As written by hand or by another tool: a Keras name, null, or an object with Keras's defaults left out.
        foreach (var (text, expected) in new[] { ("\"l2\"", "L2(l2=0.01)"), ("{\"class_name\":\"L2\",\"config\":{}}", "L2(l2=0.01)"), ("null", "") })
        {
            var c = Assert.IsType<Conv2D>(Sequential.Load(WithKernelRegularizer(text)).Layers[1]);
            Assert.Equal(expected, c.KernelRegularizer?.ToString() ?? "");
        }
        string bad = WithKernelRegularizer("\"l7\"");
        var e = Assert.Throws<Data.InvalidDataFormatException>(() => Sequential.Load(bad));
        Assert.Contains("kernel_regularizer", e.Message);
    }

    /// <summary>clipnorm scales a gradient of norm 5 to norm 1; clipvalue clips each element; global_clipnorm scales all together.</summary>
    [Fact]
    public void ClippingFollowsKeras()
    {
        float[][] grads = [[3f, -4f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f]];
        var w0 = OptimizerTests.W0;
        var byNorm = OptimizerTests.Run(new SGD(1f) { ClipNorm = 1f }, grads)[0];
        Assert.Equal(w0[0] - 0.6f, byNorm[0], 6);
        Assert.Equal(w0[1] + 0.8f, byNorm[1], 6);
        var small = OptimizerTests.Run(new SGD(1f) { ClipNorm = 10f }, grads)[0];   // under the threshold: untouched
        Assert.Equal(w0[0] - 3f, small[0], 6);
        var byValue = OptimizerTests.Run(new SGD(1f) { ClipValue = 2f }, grads)[0];
        Assert.Equal(w0[0] - 2f, byValue[0], 6);
        Assert.Equal(w0[1] + 2f, byValue[1], 6);

        // Two variables with gradients (3, 4) and (12): joint norm 13, each scaled by 6.5/13 = 0.5.
        var a = new Variable(new Tensor([0f, 0f], 2), "a");
        var b = new Variable(new Tensor([0f], 1), "b");
        var loss = Ops.Sum(Ops.Multiply(a, new Constant(new Tensor([3f, 4f], 2)))) + Ops.Sum(Ops.Multiply(b, new Constant(new Tensor([12f], 1))));
        new SGD(1f) { GlobalClipNorm = 6.5f }.Minimize(loss);
        Assert.Equal([-1.5f, -2f], a.Value.ToArray());
        Assert.Equal([-6f], b.Value.ToArray());

        var e = Assert.Throws<ArgumentException>(() => new Adam { ClipNorm = 1f, ClipValue = 1f });
        Assert.Contains("Only one of `clipnorm`, `clipvalue` and `global_clipnorm`", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam { ClipNorm = 0f });
        Assert.Equal("SGD(learning_rate=0.01, momentum=0, nesterov=False, clipvalue=0.5)", new SGD { ClipValue = 0.5f }.ToString());
    }

    /// <summary>Plain SGD folds its update into the gradient GEMM; with clipping or weight decay it must not, and the result is the clipped, decayed update.</summary>
    [Fact]
    public void ClippingAndDecayTurnOffTheFusedUpdate()
    {
        var x = new Constant(new Tensor([1f, 2f], 1, 2));
        var w = new Variable(new Tensor([0.5f, -0.5f, 1f, 2f], 2, 2), "w");
        var loss = Ops.Sum(Ops.MatMul(x, w));          // dL/dw = xᵀ·1: rows (1, 1) and (2, 2), norm √10
        new SGD(0.1f) { ClipNorm = 1f, WeightDecay = 0.5f }.Minimize(loss);
        double s = 1 / Math.Sqrt(10);
        float[] g = [(float)s, (float)s, (float)(2 * s), (float)(2 * s)];
        float[] w0 = [0.5f, -0.5f, 1f, 2f];
        var expected = w0.Select((v, i) => v - 0.1f * 0.5f * v - 0.1f * g[i]).ToArray();
        var actual = w.Value.ToArray();
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], actual[i], 6);
    }
}
