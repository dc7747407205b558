using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;
using static Dendrite.Tests.GradientCheckTests;

namespace Dendrite.Tests;

/// <summary>RandomTranslation, RandomRotation and RandomZoom: known transforms against hand-computed sampling, the identity at inference, seeding, threads, allocation, save/load/resume.</summary>
public class AugmentationTests
{
    private static (Dendrite.Data.Dataset Train, Dendrite.Data.Dataset Test) Data => ModelTests.Data.Value;

    /// <summary>Pixel values 1, 2, 3, ... so that each output pixel says where it was read from.</summary>
    private static Tensor Counting(params int[] shape)
    {
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++) t.Span[i] = i + 1;
        return t;
    }

    private static float[] Run(Func<Node, TrainingSwitch, Node> op, Tensor x, long step = 0)
    {
        var sw = new TrainingSwitch { On = true, Step = step };
        return op(new Constant(x), sw).Evaluate().ToArray();
    }

    /// <summary>Where index i (outside 0..n-1) reads from under each fill mode, written out case by case; -1: the fill value.</summary>
    private static int Fixed(int i, int n, FillMode mode) => i >= 0 && i < n ? i : mode switch
    {
        FillMode.Constant => -1,
        FillMode.Nearest => i < 0 ? 0 : n - 1,
        FillMode.Wrap => i < 0 ? i + n : i - n,
        _ => i < 0 ? -i - 1 : 2 * n - 1 - i,                // reflect: -1 → 0, -2 → 1, n → n-1, n+1 → n-2
    };

    [Theory]
    [InlineData(FillMode.Constant)]
    [InlineData(FillMode.Reflect)]
    [InlineData(FillMode.Nearest)]
    [InlineData(FillMode.Wrap)]
    public void TranslationByWholePixelsMovesEveryPixel(FillMode mode)
    {
        // 4×8 images, 2 channels: a height factor of 0.25 is 1 row down, a width factor of -0.25 is 2 columns left.
        var x = Counting(2, 4, 8, 2);
        foreach (var interpolation in new[] { Interpolation.Bilinear, Interpolation.Nearest })
        {
            var y = Run((v, sw) => Ops.RandomTranslation(v, (0.25, 0.25), (-0.25, -0.25), sw, 1, mode, interpolation, fillValue: -7), x);
            for (int n = 0; n < 2; n++)
                for (int r = 0; r < 4; r++)
                    for (int c = 0; c < 8; c++)
                        for (int ch = 0; ch < 2; ch++)
                        {
                            int sr = Fixed(r - 1, 4, mode), sc = Fixed(c + 2, 8, mode);
                            float expected = sr < 0 || sc < 0 ? -7 : x.Span[((n * 4 + sr) * 8 + sc) * 2 + ch];
                            Assert.Equal(expected, y[((n * 4 + r) * 8 + c) * 2 + ch]);
                        }
        }
    }

    [Fact]
    public void RotationByAQuarterTurnIsCounterClockwiseForAPositiveFactor()
    {
        var x = Counting(1, 5, 5, 3);
        foreach (var interpolation in new[] { Interpolation.Bilinear, Interpolation.Nearest })
        {
            var left = Run((v, sw) => Ops.RandomRotation(v, (0.25, 0.25), sw, 2, FillMode.Constant, interpolation), x);
            var right = Run((v, sw) => Ops.RandomRotation(v, (-0.25, -0.25), sw, 2, FillMode.Constant, interpolation), x);
            for (int r = 0; r < 5; r++)
                for (int c = 0; c < 5; c++)
                    for (int ch = 0; ch < 3; ch++)
                    {
                        // counter-clockwise: the right column becomes the top row; clockwise: the left column does, bottom first.
                        Assert.Equal(x.Span[(c * 5 + 4 - r) * 3 + ch], left[(r * 5 + c) * 3 + ch], 1e-4f);
                        Assert.Equal(x.Span[((4 - c) * 5 + r) * 3 + ch], right[(r * 5 + c) * 3 + ch], 1e-4f);
                    }
        }
    }

    /// <summary>Bilinear sampling of a one-channel h×w image at (qy, qx), constant fill 0, written out.</summary>
    private static float Bilinear(Tensor x, int h, int w, double qy, double qx)
    {
        int r0 = (int)Math.Floor(qy), c0 = (int)Math.Floor(qx);
        double fy = qy - r0, fx = qx - c0, s = 0;
        for (int dr = 0; dr < 2; dr++)
            for (int dc = 0; dc < 2; dc++)
            {
                int r = r0 + dr, c = c0 + dc;
                double wgt = (dr == 0 ? 1 - fy : fy) * (dc == 0 ? 1 - fx : fx);
                if (r >= 0 && r < h && c >= 0 && c < w) s += wgt * x.Span[r * w + c];
            }
        return (float)s;
    }

    [Fact]
    public void ZoomScalesTheSamplingGridAboutTheCentre()
    {
        var x = Counting(1, 5, 7);                          // (height, width) items: one channel
        // zoom out by 2 (factor +1): output p reads c + 2(p - c); zoom in by 2 (factor -0.5): c + (p - c)/2.
        foreach (var (hf, wf) in new (double, double?)[] { (1, null), (-0.5, null), (1, 0), (-0.5, 0.5) })
        {
            var y = Run((v, sw) => Ops.RandomZoom(v, (hf, hf), wf is double f ? new FactorRange((float)f, (float)f) : null, sw, 3, FillMode.Constant), x);
            double zy = 1 + hf, zx = 1 + (wf ?? hf);
            for (int r = 0; r < 5; r++)
                for (int c = 0; c < 7; c++)
                    Assert.Equal(Bilinear(x, 5, 7, 2 + zy * (r - 2), 3 + zx * (c - 3)), y[r * 7 + c], 1e-4f);
        }
    }

    [Fact]
    public void InferenceIsTheIdentityAndTrainingIsSeeded()
    {
        var x = new Constant(Rand(4, 0f, 1f, 6, 10, 9, 2));
        var sw = new TrainingSwitch();
        var y = Ops.RandomRotation(x, 0.1, sw, seed: 5);
        Assert.Same(x.Value, y.Evaluate());                 // inference: the input itself
        var layer = new RandomZoom(0.2, seed: 1, inputShape: [10, 9, 2]);
        layer.Build([10, 9, 2], new Rng(0));
        Assert.Same(x.Value, layer.Call(x, sw).Evaluate());
        Assert.Same(x.Value, layer.Call(x).Evaluate());      // no switch: inference

        sw.On = true; sw.Step = 3;
        var a = y.Evaluate().ToArray();
        Assert.NotEqual(x.Value.ToArray(), a);
        Assert.Equal(a, y.Evaluate().ToArray());                                  // same seed and step: same images
        Assert.Equal(a, Ops.RandomRotation(x, 0.1, sw, seed: 5).Evaluate().ToArray());
        Assert.NotEqual(a, Ops.RandomRotation(x, 0.1, sw, seed: 6).Evaluate().ToArray());
        sw.Step = 4;
        Assert.NotEqual(a, y.Evaluate().ToArray());
        // each image draws its own transform: image 0 alone is transformed as image 0 of the batch
        sw.Step = 3;
        var first = new Constant(new Tensor(x.Value.ToArray()[..180], 1, 10, 9, 2));
        Assert.Equal(a[..180], Ops.RandomRotation(first, 0.1, sw, seed: 5).Evaluate().ToArray());
        Assert.NotEqual(a[..180], a[180..360]);
    }

    [Fact]
    public void TheThreadCountDoesNotChangeTheImages()
    {
        var x = Rand(6, 0f, 1f, 9, 12, 11, 3);
        float[] With(int threads)
        {
            int saved = Parallelism.MaxThreads;
            Parallelism.MaxThreads = threads;
            try { return Run((v, sw) => Ops.RandomTranslation(Ops.RandomZoom(Ops.RandomRotation(v, 0.2, sw, 1), 0.3, null, sw, 2), 0.2, 0.1, sw, 3), x, step: 11); }
            finally { Parallelism.MaxThreads = saved; }
        }
        var one = With(1);
        Assert.Equal(one, With(2));
        Assert.Equal(one, With(3));
    }

    /// <summary>The op is linear in x with weights fixed by the step's draw; its gradient is their transpose.</summary>
    [Fact]
    public void GradientsFlowBackThroughTheSampling()
    {
        var sw = new TrainingSwitch { On = true, Step = 2 };
        Check(v => Ops.RandomRotation(v[0], 0.2, sw, 4, FillMode.Constant, fillValue: 0.5f), Rand(7, 2, 5, 6, 2));
        Check(v => Ops.RandomZoom(v[0], (-0.4, 0.4), (0.1, 0.3), sw, 5, FillMode.Reflect), Rand(8, 2, 6, 5));
        Check(v => Ops.RandomTranslation(v[0], 0.3, 0.3, sw, 6, FillMode.Wrap, Interpolation.Nearest), Rand(9, 3, 4, 4, 1));
        sw.On = false;
        Check(v => Ops.RandomTranslation(v[0], 0.3, 0.3, sw, 6), Rand(10, 2, 4, 4, 1));
    }

    [Fact]
    public void BadSettingsAreRefusedWithTheirKerasNames()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RandomTranslation(1.5, 0.1));
        Assert.Contains("`height_factor`", e.Message);
        Assert.Contains("between -1 and 1", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomRotation((-0.1, 1.2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomZoom(0.1, (-2.0, 0.0)));
        var f = Assert.Throws<ArgumentException>(() => new RandomZoom(0.1, fillMode: "mirror"));
        Assert.Contains("Received: fill_mode=mirror", f.Message);
        f = Assert.Throws<ArgumentException>(() => new RandomRotation(0.1, interpolation: "bicubic"));
        Assert.Contains("Expected bilinear or nearest", f.Message);
        f = Assert.Throws<ArgumentException>(() => new Sequential(new Dense(4, inputShape: [5]), new RandomRotation(0.1)).Build(5));
        Assert.Contains("(height, width, channels)", f.Message);
        Assert.Equal(new FactorRange(-0.2f, 0.1f), (FactorRange)(0.1, -0.2));      // a pair in either order, as Keras sorts it
        Assert.Equal(new FactorRange(-0.3f, 0.3f), (FactorRange)(-0.3f));
    }

    private static Sequential Augmented(ulong seed) => new(
        new RandomTranslation(0.1, 0.1, inputShape: [28, 28]), new RandomRotation(0.05, fillMode: "constant"), new RandomZoom((-0.1, 0.1), (0.0, 0.2), interpolation: "nearest"),
        new Reshape([28, 28, 1]), new Rescaling(1f / 255), new Conv2D(4, 3, strides: 2, activation: "relu"), new MaxPooling2D(2),
        new Flatten(), new Dense(10, "softmax")) { Seed = seed };

    /// <summary>The layers save with Keras's names, load, predict as before (the identity), resume exactly, and leave no trace in ONNX.</summary>
    [Fact]
    public void AnAugmentedModelSavesLoadsAndResumesExactly()
    {
        using var dir = new TempDir();
        var train = Data.Train.Take(256);
        Sequential Fresh()
        {
            var m = Augmented(9);
            m.Compile("categorical_crossentropy", new SGD(0.05f, momentum: 0.9f), ["accuracy"]);
            return m;
        }
        var whole = Fresh();
        var h1 = whole.Fit(train, batchSize: 32, epochs: 2, verbose: 0, seed: 5);
        whole.Save(dir.File("m.dendrite"));
        var loaded = Sequential.Load(dir.File("m.dendrite"));
        Assert.Equal(whole.Predict(Data.Test.Take(40)).ToArray(), loaded.Predict(Data.Test.Take(40)).ToArray());
        Assert.Equal(whole.SummaryText(), loaded.SummaryText());
        Assert.Contains("(RandomTranslation)", loaded.SummaryText());
        for (int i = 0; i < 3; i++) Assert.Equal(whole.Layers[i].GetConfig(), loaded.Layers[i].GetConfig());
        var zoom = (RandomZoom)loaded.Layers[2];
        Assert.Equal((0f, 0.2f), (zoom.WidthFactor!.Value.Lower, zoom.WidthFactor.Value.Upper));
        Assert.Equal("nearest", zoom.Interpolation);

        var part = Fresh();
        part.Fit(train, batchSize: 32, epochs: 2, verbose: 0, seed: 5, callbacks: [new SerializationTests.StopAt(epoch: 2, step: 3)]);
        part.SaveCheckpoint(dir.File("ckpt.dendrite"));
        var resumed = Sequential.LoadCheckpoint(dir.File("ckpt.dendrite"), out var state);
        var h2 = resumed.Fit(train, verbose: 0, resumeFrom: state);
        Assert.Equal(whole.Weights.SelectMany(w => w.Value.ToArray()), resumed.Weights.SelectMany(w => w.Value.ToArray()));
        Assert.Equal(h1.BatchLoss, h2.BatchLoss);

        // at inference the model is the same network without the augmentation layers, and exports as that network
        var plain = new Sequential(new Reshape([28, 28, 1], inputShape: [28, 28]), new Rescaling(1f / 255), new Conv2D(4, 3, strides: 2, activation: "relu"),
            new MaxPooling2D(2), new Flatten(), new Dense(10, "softmax"));
        plain.Build(28, 28);
        for (int i = 0; i < plain.Layers.Count; i++) plain.Layers[i].SetWeights(whole.Layers[i + 3].GetWeights());
        Assert.Equal(whole.Predict(Data.Test.Take(40)).ToArray(), plain.Predict(Data.Test.Take(40)).ToArray());
        Assert.DoesNotContain("random", System.Text.Encoding.ASCII.GetString(Serialization.Onnx.Export(whole)));
    }

    /// <summary>A training step through all three layers allocates nothing once warm (see ConvolutionTests.ACnnTrainingStepAllocatesNothingInSteadyState).</summary>
    [Fact]
    public void AnAugmentedTrainingStepAllocatesNothingInSteadyState()
    {
        var model = Augmented(4);
        model.Compile("categorical_crossentropy", new Adam(), ["accuracy"]);
        var probe = new SteadyAllocation();
        model.Fit(Data.Train.Take(64 * 12), batchSize: 64, epochs: 8, verbose: 0, callbacks: [probe]);
        Assert.Equal(6, probe.PerEpoch.Count);
        Assert.True(probe.PerEpoch.Min() < 11 * 24L, $"bytes allocated over the 11 steady-state steps of epochs 3 to 8: {string.Join(", ", probe.PerEpoch)}");
    }

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

    [Fact]
    public void TheCommandLineNamesTheLayers()
    {
        var layers = Dendrite.Cli.Architectures.Parse("translate(0.1) rotate(0.05, fill_mode=constant) zoom(-0.2:0.1, 0.3, interpolation=nearest) conv(4, 3)",
            [28, 28], ActivationFunction.Relu, Initializer.GlorotUniform);
        var t = Assert.IsType<RandomTranslation>(layers[0]);
        Assert.Equal((-0.1f, 0.1f), (t.HeightFactor.Lower, t.WidthFactor.Upper));
        var r = Assert.IsType<RandomRotation>(layers[1]);
        Assert.Equal("constant", r.FillMode);
        var z = Assert.IsType<RandomZoom>(layers[2]);
        Assert.Equal((-0.2f, 0.1f, 0.3f, "nearest"), (z.HeightFactor.Lower, z.HeightFactor.Upper, z.WidthFactor!.Value.Upper, z.Interpolation));
        Assert.IsType<Reshape>(layers[3]);                  // the channel axis goes in before the first convolution
        Assert.Equal("translate(0.1 fill_mode=wrap) zoom(-0.1:0.2 fill_mode=wrap)", Dendrite.Cli.Architectures.AugmentSpec("translate=0.1, zoom=-0.1:0.2, fill=wrap"));
        Assert.Contains("unknown `spin`", Assert.Throws<ArgumentException>(() => Dendrite.Cli.Architectures.AugmentSpec("spin=0.1")).Message);
        Assert.Contains("`factor` must be a number", Assert.Throws<ArgumentException>(() => Dendrite.Cli.Architectures.Parse("rotate(a:b:c)", [28, 28, 1], ActivationFunction.Relu, Initializer.GlorotUniform)).Message);
    }
}
