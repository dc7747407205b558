using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;
using static Dendrite.Tests.GradientCheckTests;

namespace Dendrite.Tests;

/// <summary>Convolution, pooling, batch normalisation, dropout and reshape: values against plain loops, gradients against finite differences.</summary>
public class ConvolutionTests
{
    /// <summary>conv2d by its definition, in double: y[n,oh,ow,f] = b[f] + Σ x[n, oh·sh - top + kh, ow·sw - left + kw, c]·w[kh,kw,c,f].</summary>
    private static float[] ReferenceConv(Tensor x, Tensor w, Tensor? b, int sh, int sw, bool same, out int oh, out int ow)
    {
        int n = x.Dim(0), h = x.Dim(1), wd = x.Dim(2), c = x.Dim(3), kh = w.Dim(0), kw = w.Dim(1), f = w.Dim(3);
        int top = 0, left = 0;
        if (same)
        {
            oh = (h + sh - 1) / sh; ow = (wd + sw - 1) / sw;
            top = Math.Max((oh - 1) * sh + kh - h, 0) / 2; left = Math.Max((ow - 1) * sw + kw - wd, 0) / 2;
        }
        else { oh = (h - kh) / sh + 1; ow = (wd - kw) / sw + 1; }
        var y = new float[n * oh * ow * f];
        for (int i = 0; i < n; i++)
            for (int a = 0; a < oh; a++)
                for (int bb = 0; bb < ow; bb++)
                    for (int o = 0; o < f; o++)
                    {
                        double s = b is null ? 0 : b.Span[o];
                        for (int p = 0; p < kh; p++)
                            for (int q = 0; q < kw; q++)
                            {
                                int ih = a * sh - top + p, iw = bb * sw - left + q;
                                if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                                for (int ch = 0; ch < c; ch++) s += (double)x.Span[((i * h + ih) * wd + iw) * c + ch] * w.Span[((p * kw + q) * c + ch) * f + o];
                            }
                        y[((i * oh + a) * ow + bb) * f + o] = (float)s;
                    }
        return y;
    }

    public static TheoryData<int, int, int, int, int, int, int, int, bool> ConvCases => new()
    {
        // n, h, w, c, kh, kw, stride h, stride w, same
        { 2, 5, 6, 3, 3, 2, 1, 1, false },
        { 2, 5, 6, 3, 3, 2, 1, 1, true },
        { 1, 7, 5, 2, 3, 3, 2, 2, false },
        { 1, 7, 5, 2, 3, 3, 2, 2, true },
        { 2, 6, 6, 1, 2, 2, 2, 1, true },
        { 2, 4, 5, 3, 1, 1, 1, 1, false },    // pointwise: no im2col
        { 1, 5, 4, 2, 4, 3, 3, 2, true },     // window larger than the stride, odd padding
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv2DMatchesItsDefinition(int n, int h, int w, int c, int kh, int kw, int sh, int sw, bool same)
    {
        var x = Rand(1, n, h, w, c); var k = Rand(2, kh, kw, c, 4); var b = Rand(3, 4);
        var y = Ops.Conv2D(new Constant(x), new Constant(k), new Constant(b), (sh, sw), same ? Padding.Same : Padding.Valid).Evaluate();
        var expected = ReferenceConv(x, k, b, sh, sw, same, out int oh, out int ow);
        Assert.Equal([n, oh, ow, 4], y.Shape);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], y.Span[i], 1e-5f);
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv2DGradients(int n, int h, int w, int c, int kh, int kw, int sh, int sw, bool same) =>
        Check(v => Ops.Conv2D(v[0], v[1], v[2], (sh, sw), same ? Padding.Same : Padding.Valid, "tanh"),
            Rand(1, n, h, w, c), Rand(2, kh, kw, c, 3), Rand(3, 3));

    [Fact]
    public void Conv2DWithReluAndNoBias() =>
        Check(v => Ops.Conv2D(v[0], v[1], null, 1, Padding.Same, "relu"), AwayFromZero(4, 2, 4, 4, 2), Rand(5, 3, 3, 2, 5));

    /// <summary>A batch larger than one im2col chunk: the chunks must join up exactly.</summary>
    [Fact]
    public void Conv2DOverManyChunksMatchesItsDefinition()
    {
        var x = Rand(6, 40, 30, 30, 8); var k = Rand(7, 3, 3, 8, 16);
        var y = Ops.Conv2D(new Constant(x), new Constant(k), null, 1, Padding.Same).Evaluate();
        var expected = ReferenceConv(x, k, null, 1, 1, true, out _, out _);
        for (int i = 0; i < expected.Length; i += 7) Assert.Equal(expected[i], y.Span[i], 2e-4f);
    }

    [Theory]
    [InlineData(2, 2, 2, 2, false)]
    [InlineData(3, 3, 2, 2, false)]
    [InlineData(3, 3, 2, 2, true)]
    [InlineData(2, 3, 1, 2, true)]
    public void MaxPoolGradients(int ph, int pw, int sh, int sw, bool same) =>
        Check(v => Ops.MaxPool2D(v[0], (ph, pw), (sh, sw), same ? Padding.Same : Padding.Valid), Distinct(8, 2, 7, 5, 11));

    [Theory]
    [InlineData(2, 2, 2, 2, false)]
    [InlineData(3, 3, 2, 2, true)]
    [InlineData(2, 3, 1, 2, true)]
    public void AveragePoolGradients(int ph, int pw, int sh, int sw, bool same) =>
        Check(v => Ops.AveragePool2D(v[0], (ph, pw), (sh, sw), same ? Padding.Same : Padding.Valid), Rand(9, 2, 7, 5, 3));

    [Fact] public void GlobalAveragePoolGradients() => Check(v => Ops.GlobalAveragePool2D(v[0]), Rand(10, 2, 3, 4, 5));

    [Fact]
    public void PoolingMatchesItsDefinition()
    {
        // 1 image, 3×4, 1 channel; 2×2 windows, stride 2, same padding: the last column's windows are cut by the border.
        var x = new Tensor([1f, 5, 2, 0, 3, 4, 8, 7, -1, 9, 6, 2], 1, 3, 4, 1);
        var max = Ops.MaxPool2D(new Constant(x), 2, null, Padding.Same).Evaluate();
        Assert.Equal([1, 2, 2, 1], max.Shape);
        Assert.Equal(new[] { 5f, 8, 9, 6 }, max.ToArray());
        var avg = Ops.AveragePool2D(new Constant(x), 2, null, Padding.Same).Evaluate();
        Assert.Equal(new[] { 13f / 4, 17f / 4, 8f / 2, 8f / 2 }, avg.ToArray());
    }

    [Fact]
    public void MaxPoolVectorisedAcrossChannelsMatchesTheScalarRule()
    {
        var x = Distinct(11, 3, 6, 6, 37);               // 37 channels: whole vectors and a scalar tail
        var y = Ops.MaxPool2D(new Constant(x), 3, 2, Padding.Same).Evaluate();
        for (int n = 0; n < 3; n++)
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 3; b++)
                    for (int c = 0; c < 37; c++)
                    {
                        float best = float.NegativeInfinity;
                        for (int p = 0; p < 3; p++)
                            for (int q = 0; q < 3; q++)
                            {
                                int ih = a * 2 + p, iw = b * 2 + q;   // same padding: (3-1)*2+3-6 = 1 total, 0 on top/left
                                if (ih < 6 && iw < 6) best = Math.Max(best, x.Span[((n * 6 + ih) * 6 + iw) * 37 + c]);
                            }
                        Assert.Equal(best, y.Span[((n * 3 + a) * 3 + b) * 37 + c]);
                    }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BatchNormalizationGradients(bool training)
    {
        var sw = new TrainingSwitch { On = training };
        var mean = new Variable(Rand(12, 5), "mm", trainable: false);
        var variance = new Variable(Rand(13, 0.5f, 2f, 5), "mv", trainable: false);
        Check(v => Ops.BatchNormalization(v[0], v[1], v[2], mean, variance, 0.9f, 1e-3f, sw), Rand(14, 2, 3, 4, 5), Rand(15, 5), Rand(16, 5));
        Check(v => Ops.BatchNormalization(v[0], null, null, mean, variance, 0.9f, 1e-3f, sw), Rand(17, 6, 5));
    }

    [Fact]
    public void BatchNormalizationNormalisesAndTracksTheMovingStatistics()
    {
        var sw = new TrainingSwitch { On = true };
        var x = Rand(18, -3f, 5f, 300, 7);     // more rows than one block of partial sums
        var mm = new Variable(new Tensor(7), "mm", trainable: false);
        var mv = new Variable(Initializer.Ones.Create([7], new Rng(1)), "mv", trainable: false);
        var y = Ops.BatchNormalization(new Constant(x), null, null, mm, mv, 0.99f, 1e-3f, sw).Evaluate();
        for (int c = 0; c < 7; c++)
        {
            double m = 0, v = 0, ym = 0, yv = 0;
            for (int r = 0; r < 300; r++) { m += x.Span[r * 7 + c]; ym += y.Span[r * 7 + c]; }
            m /= 300; ym /= 300;
            for (int r = 0; r < 300; r++) { v += Math.Pow(x.Span[r * 7 + c] - m, 2); yv += Math.Pow(y.Span[r * 7 + c] - ym, 2); }
            v /= 300; yv /= 300;
            Assert.Equal(0, ym, 1e-5);
            Assert.Equal(v / (v + 1e-3), yv, 1e-4);
            Assert.Equal(0.01 * m, mm.Value.Span[c], 1e-5);
            Assert.Equal(0.99 + 0.01 * v, mv.Value.Span[c], 1e-5);
        }
    }

    [Fact]
    public void DropoutActsOnlyInTrainingAndIsRepeatable()
    {
        var sw = new TrainingSwitch();
        var x = new Constant(Rand(19, 0.5f, 1f, 64, 100));
        var d = Ops.Dropout(x, 0.3f, sw, seed: 5);
        Assert.Equal(x.Value.ToArray(), d.Evaluate().ToArray());            // inference: untouched
        sw.On = true; sw.Step = 7;
        var a = d.Evaluate().ToArray();
        int zeros = a.Count(v => v == 0);
        Assert.InRange(zeros, 0.25 * a.Length, 0.35 * a.Length);
        for (int i = 0; i < a.Length; i++) if (a[i] != 0) Assert.Equal(x.Value.Span[i] / 0.7f, a[i], 1e-6f);
        Assert.Equal(a, d.Evaluate().ToArray());                            // same seed and step: same mask
        sw.Step = 8;
        Assert.NotEqual(a, d.Evaluate().ToArray());
        Assert.NotEqual(a, Ops.Dropout(x, 0.3f, sw, seed: 6).Evaluate().ToArray());
        sw.Step = 7;
        Check(v => Ops.Dropout(v[0], 0.4f, sw, 3), Rand(20, 6, 7));
    }

    [Fact]
    public void AConvNetTrainsThroughTheModelGraph()
    {
        var model = new Sequential(
            new Reshape([8, 8, 1], inputShape: [8, 8]),
            new Conv2D(4, 3, padding: "same", activation: "relu"),
            new BatchNormalization(),
            new MaxPooling2D(2),
            new Conv2D(6, 3, activation: "tanh"),
            new GlobalAveragePooling2D(),
            new Dropout(0.25f),
            new Dense(3, "softmax")) { Seed = 4 };
        model.Build(8, 8);
        Check(v =>
        {
            Node h = v[0];
            foreach (var layer in model.Layers) h = layer.Call(h, null);
            return h;
        }, Rand(21, 3, 8, 8));
    }

    [Fact]
    public void ConvLayersExplainWhatTheyNeed()
    {
        var e = Assert.Throws<ArgumentException>(() => new Sequential(new Conv2D(8, 3, inputShape: [28, 28])).Build(28, 28));
        Assert.Contains("Reshape([28, 28, 1])", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Sequential(new Conv2D(8, 5, inputShape: [4, 4, 1])).Build(4, 4, 1));
        Assert.Contains("does not fit", e.Message);
        Assert.Throws<ArgumentException>(() => new MaxPooling2D(2, padding: "full"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(1f));
        e = Assert.Throws<ArgumentException>(() => new Sequential(new Reshape([5, 5, 1], inputShape: [28, 28])).Build(28, 28));
        Assert.Contains("784 values", e.Message);
    }

    /// <summary>The parameter counts Keras prints for its two MNIST convnets.</summary>
    [Fact]
    public void ParameterCountsMatchKeras()
    {
        var convnet = new Sequential(new Reshape([28, 28, 1], inputShape: [28, 28]), new Conv2D(32, 3, activation: "relu"), new MaxPooling2D(2),
            new Conv2D(64, 3, activation: "relu"), new MaxPooling2D(2), new Flatten(), new Dropout(0.5f), new Dense(10, "softmax"));
        convnet.Build(28, 28);
        Assert.Equal(34_826, convnet.ParamCount);
        var mnistCnn = new Sequential(new Reshape([28, 28, 1], inputShape: [28, 28]), new Conv2D(32, 3, activation: "relu"), new Conv2D(64, 3, activation: "relu"),
            new MaxPooling2D(2), new Dropout(0.25f), new Flatten(), new Dense(128, "relu"), new Dropout(0.5f), new Dense(10, "softmax"));
        mnistCnn.Build(28, 28);
        Assert.Equal(1_199_882, mnistCnn.ParamCount);
        var bn = new Sequential(new Conv2D(16, 3, inputShape: [8, 8, 1]), new BatchNormalization());
        bn.Build(8, 8, 1);
        Assert.Contains("Non-trainable params: 32", bn.SummaryText());
        Assert.Equal(16 * 9 + 16 + 4 * 16, bn.ParamCount);
    }

    /// <summary>A CNN training step with every new layer (reshape, rescaling, conv, batch norm, pooling, dropout, global pooling,
    /// dense) allocates nothing once warm: in steady-state epochs, the calling thread and Dendrite's worker threads
    /// allocate less than one small array per step would cost (other threads, the test runner's, are left out). The
    /// JIT's tier-up allocates while methods are recompiled, at a moment of its choosing, so the quietest of several
    /// epochs counts: an allocation made by a step is made in every epoch.</summary>
    [Fact]
    public void ACnnTrainingStepAllocatesNothingInSteadyState()
    {
        var train = Dendrite.Data.Mnist.Load().Train.Take(64 * 12);
        var model = new Sequential(new Reshape([28, 28, 1], inputShape: [28, 28]), new Rescaling(1f / 255),
            new Conv2D(8, 3, activation: "relu"), new BatchNormalization(), new MaxPooling2D(2),
            new Conv2D(8, 3, padding: "same", activation: "relu"), new AveragePooling2D(2), new Dropout(0.25f),
            new Conv2D(16, 3, activation: "relu"), new GlobalAveragePooling2D(), new Dense(10, "softmax")) { Seed = 3 };
        model.Compile("categorical_crossentropy", new Adam(), ["accuracy"]);
        var probe = new SteadyAllocation();
        model.Fit(train, batchSize: 64, epochs: 8, verbose: 0, callbacks: [probe]);
        Assert.Equal(6, probe.PerEpoch.Count);
        long least = probe.PerEpoch.Min();
        Assert.True(least < 11 * 24L, $"bytes allocated over the 11 steady-state steps of epochs 3 to 8: {string.Join(", ", probe.PerEpoch)}");
    }

    /// <summary>For epochs 3 on, the bytes allocated from the end of an epoch's first step to the end of its last.</summary>
    private sealed class SteadyAllocation : Dendrite.Callbacks.Callback
    {
        private long _start;
        public List<long> PerEpoch { get; } = new(16);
        public override void OnBatchEnd(int epoch, in Dendrite.Callbacks.BatchLogs logs)
        {
            if (epoch < 3) return;
            long now = Parallelism.AllocatedBytes();
            if (logs.Step == 1) _start = now;
            else if (logs.Step == 12) PerEpoch.Add(now - _start);
        }
    }

    /// <summary>Values that differ from one another, so a max has one winner and a finite difference does not change it.</summary>
    private static Tensor Distinct(ulong seed, params int[] shape)
    {
        var t = new Tensor(shape);
        var order = Enumerable.Range(0, t.Length).ToArray();
        new Rng(seed).Shuffle(order);
        for (int i = 0; i < t.Length; i++) t.Span[i] = order[i] * 0.05f - t.Length * 0.025f;
        return t;
    }
}
