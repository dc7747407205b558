using System.Diagnostics;
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;

namespace Dendrite.Bench;

internal static class Harness
{
    public static Sequential Mlp(int[] hidden, bool raw, ulong seed = 1)
    {
        var m = new Sequential(new Flatten(inputShape: [28, 28])) { Seed = seed };
        if (!raw) m.Add(new Rescaling(1f / 255));
        foreach (int h in hidden) m.Add(new Dense(h, "relu"));
        m.Add(new Dense(10, "softmax"));
        return m;
    }

    /// <summary>Median seconds per epoch over epochs 2..n (the first includes JIT warm-up), as the peer reports.</summary>
    public static double EpochSeconds(Dataset train, int[] hidden, float lr, int batch, bool raw, int epochs, Optimizer? optimizer = null)
    {
        var model = Mlp(hidden, raw);
        model.Compile("categorical_crossentropy", optimizer ?? new SGD(lr), ["accuracy"]);
        var h = model.Fit(train, batchSize: batch, epochs: epochs, verbose: 0, seed: 1);
        var later = h.EpochSeconds.Skip(1).Order().ToList();
        Console.WriteLine($"  Dendrite epochs: {string.Join(", ", h.EpochSeconds.Select(s => s.ToString("F3")))} s; final train accuracy {h.Accuracy[^1]:F4}");
        return later[later.Count / 2];
    }

    public static double? PeerEpoch(string arguments)
    {
        var lines = Peer.Run("torch_mlp.py", arguments);
        var summary = lines?.LastOrDefault(l => l.GetProperty("kind").GetString() == "summary");
        if (summary is not { } s) return null;
        Console.WriteLine($"  PyTorch epochs: median {s.GetProperty("median_ep2_4_s").GetDouble():F3} s; test accuracy {s.GetProperty("test_acc").GetDouble():F4}");
        return s.GetProperty("median_ep2_4_s").GetDouble();
    }

    /// <summary>Median single-image latency (seconds) and the best time for the 10,000 test images in batches of 1000.</summary>
    /// <summary>
    /// Median seconds of one-image prediction (1,000 test images), of the same on inputs with no zero pixel (the skipped
    /// zero steps give nothing there: what a dense input costs), and the best of 5 passes over 10,000 images in batches of 1000.
    /// </summary>
    public static (double single, double singleDense, double batch10k) Inference(Dataset test)
    {
        var model = Mlp([1024], raw: false);
        model.Build(28, 28);
        var x = test.ImagesAsTensor();
        var probs = new float[10];
        for (int i = 0; i < 200; i++) model.Predict(x.Row(i % 10000), probs);
        var lat = new double[1000];
        for (int i = 0; i < lat.Length; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            model.Predict(x.Row(i % 10000), probs);
            lat[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        Array.Sort(lat);
        var dense = new float[784];
        var denseLat = new double[1000];
        var rng = new Random(5);
        for (int i = 0; i < denseLat.Length + 200; i++)
        {
            for (int j = 0; j < dense.Length; j++) dense[j] = 1 + rng.Next(255);
            long t0 = Stopwatch.GetTimestamp();
            model.Predict(dense, probs);
            if (i >= 200) denseLat[i - 200] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        Array.Sort(denseLat);
        model.Predict(x, 1000);
        double best = double.MaxValue;
        for (int r = 0; r < 5; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            model.Predict(x, 1000);
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return (lat[lat.Length / 2], denseLat[denseLat.Length / 2], best);
    }

    /// <summary>The peer's shapes (gemm_ceiling.py), as op(A)(m×k)·op(B)(k×n), with the target ratio.</summary>
    public static readonly (string name, int m, int k, int n, bool ta, bool tb, double target)[] GemmShapes =
    [
        ("fwd1", 128, 784, 1024, false, true, 1.2),
        ("fwd1c", 128, 784, 1024, false, false, 1.2),
        ("dW1", 1024, 128, 784, true, false, 1.2),
        ("dX1", 128, 1024, 784, false, true, 1.2),
        ("fwd2", 128, 1024, 10, false, false, 1.2),
        ("big", 2048, 2048, 2048, false, false, 0.9),
        ("dW2", 1024, 128, 10, true, false, 1.2),
        ("dH2", 128, 10, 1024, false, true, 1.2),
    ];

    public static double GemmGflops(int m, int k, int n, bool ta, bool tb)
    {
        var rng = new Rng(1);
        var a = new float[m * k]; var b = new float[k * n]; var c = new float[m * n];
        for (int i = 0; i < a.Length; i++) a[i] = rng.Uniform(-1, 1);
        for (int i = 0; i < b.Length; i++) b[i] = rng.Uniform(-1, 1);
        int lda = ta ? m : k, ldb = tb ? k : n;
        for (int i = 0; i < 3; i++) Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, n);
        double best = double.MaxValue;
        var total = Stopwatch.StartNew();
        int calls = 0;
        while (total.Elapsed.TotalSeconds < 0.5 || calls < 5)
        {
            long t0 = Stopwatch.GetTimestamp();
            Gemm.Multiply(ta, tb, m, n, k, a, lda, b, ldb, c, n);
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
            calls++;
        }
        return 2.0 * m * n * k / best / 1e9;
    }

    /// <summary>Bytes allocated (all threads) during one steady-state epoch, and the process's peak working set.</summary>
    public static (long bytesPerEpoch, double peakMb) Allocation(Dataset train)
    {
        var model = Mlp([1024], raw: false);
        model.Compile("categorical_crossentropy", new SGD(0.1f), ["accuracy"]);
        var cb = new EpochAllocation();
        model.Fit(train, batchSize: 128, epochs: 3, verbose: 0, callbacks: [cb]);
        using var p = Process.GetCurrentProcess();
        p.Refresh();
        return (cb.Steady, p.PeakWorkingSet64 / 1048576.0);
    }

    private sealed class EpochAllocation : Callbacks.Callback
    {
        private long _start;
        public long Steady { get; private set; }
        public override void OnEpochBegin(int epoch) => _start = GC.GetTotalAllocatedBytes(true);
        public override void OnBatchEnd(int epoch, in Callbacks.BatchLogs logs)
        {
            if (logs.Step == 1) _start = GC.GetTotalAllocatedBytes(true); // count from the first step on, leaving out the epoch's shuffle set-up
        }
        public override void OnEpochEnd(Callbacks.EpochLogs logs)
        {
            if (logs.Epoch >= 2) Steady = GC.GetTotalAllocatedBytes(true) - _start;
        }
    }

    /// <summary>Time per op of one training step, forward and backward.</summary>
    public static void Profile(Dataset train, int[] hidden, int batch, bool raw, float lr)
    {
        var model = Mlp(hidden, raw);
        model.Compile("categorical_crossentropy", new SGD(lr), ["accuracy"]);
        Profile(model, train, batch, reps: 200);
    }

    /// <summary>Time per op of one training step of a compiled model, forward and backward.</summary>
    public static void Profile(Sequential model, Dataset train, int batch, int reps)
    {
        model.Fit(train.Take(batch * 50), batchSize: batch, epochs: 2, verbose: 0);
        model.Training.On = true;
        var loss = (Node)typeof(Sequential).GetField("_lossNode", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(model)!;
        var order = loss.Order;
        var fwd = new double[order.Length]; var bwd = new double[order.Length];
        double update = 0;
        var vars = model.Weights.ToList();
        var fusable = model.Optimizer!.FusableFor(loss);
        for (int r = 0; r < reps; r++)
        {
            for (int i = 0; i < order.Length; i++) { long t0 = Stopwatch.GetTimestamp(); order[i].Forward(); fwd[i] += Stopwatch.GetElapsedTime(t0).TotalMilliseconds; }
            foreach (var n in order) n.GradWritten = false;
            loss.Grad.Resize([]); loss.Grad.Span[0] = 1; loss.GradWritten = true;
            using (model.Optimizer!.Fuse(fusable))
                for (int i = order.Length - 1; i >= 0; i--)
                {
                    var n = order[i];
                    if (!(n.GradWritten && n.RequiresGrad && n.Inputs.Count > 0)) continue;
                    long t0 = Stopwatch.GetTimestamp(); n.Backprop(); bwd[i] += Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                }
            long u0 = Stopwatch.GetTimestamp(); model.Optimizer!.Step(vars); update += Stopwatch.GetElapsedTime(u0).TotalMilliseconds;
        }
        int steps = (60000 + batch - 1) / batch;
        Console.WriteLine($"op                                   forward ms   backward ms   (per step, batch {batch})");
        double total = 0;
        for (int i = 0; i < order.Length; i++)
        {
            Console.WriteLine($"{order[i].Name,-36} {fwd[i] / reps,10:F3} {bwd[i] / reps,13:F3}");
            total += (fwd[i] + bwd[i]) / reps;
        }
        model.Training.On = false;
        Console.WriteLine($"{model.Optimizer!.Name + " update",-36} {update / reps,10:F3}");
        total += update / reps;
        Console.WriteLine($"{"total",-36} {total,10:F3} ms per step -> {total * steps / 1000:F3} s per epoch of {steps} steps");
    }
}
