using System.Diagnostics;
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;

namespace Dendrite.Bench;

/// <summary>Keras's two MNIST convnets, timed as ../shared/bench/torch_cnn.py times its PyTorch twins.</summary>
internal static class Cnn
{
    /// <summary>Keras's mnist_convnet: 34,826 parameters.</summary>
    public static Sequential Convnet(ulong seed = 1) => new(
        new Reshape([28, 28, 1], inputShape: [28, 28]), new Rescaling(1f / 255),
        new Conv2D(32, 3, activation: "relu"), new MaxPooling2D(2),
        new Conv2D(64, 3, activation: "relu"), new MaxPooling2D(2),
        new Flatten(), new Dropout(0.5f), new Dense(10, "softmax")) { Seed = seed };

    /// <summary>Keras's older mnist_cnn: 1,199,882 parameters.</summary>
    public static Sequential MnistCnn(ulong seed = 1) => new(
        new Reshape([28, 28, 1], inputShape: [28, 28]), new Rescaling(1f / 255),
        new Conv2D(32, 3, activation: "relu"), new Conv2D(64, 3, activation: "relu"), new MaxPooling2D(2),
        new Dropout(0.25f), new Flatten(), new Dense(128, "relu"), new Dropout(0.5f), new Dense(10, "softmax")) { Seed = seed };

    public static Sequential Build(string arch) => arch == "convnet" ? Convnet() : MnistCnn();

    public static Optimizer NewOptimizer(string opt, float lr) =>
        opt switch { "sgd" => new SGD(lr), "adam" => new Adam(lr), _ => throw new ArgumentException($"optimizer {opt} is not available") };

    /// <summary>Median seconds per epoch over epochs 2..n, with the final test accuracy.</summary>
    public static double EpochSeconds(Dataset train, Dataset test, string arch, string opt, float lr, int epochs)
    {
        var model = Build(arch);
        model.Compile("categorical_crossentropy", NewOptimizer(opt, lr), ["accuracy"]);
        var h = model.Fit(train, batchSize: 128, epochs: epochs, verbose: 0, seed: 1);
        var later = h.EpochSeconds.Skip(1).Order().ToList();
        var acc = model.Evaluate(test).Accuracy;
        using var p = Process.GetCurrentProcess();
        Console.WriteLine($"  Dendrite {arch} epochs: {string.Join(", ", h.EpochSeconds.Select(s => s.ToString("F2")))} s; test accuracy {acc:F4}; peak working set {p.PeakWorkingSet64 / 1048576.0:F0} MB");
        return later[later.Count / 2];
    }

    public static double? PeerEpoch(string arch, string opt, float lr, int epochs)
    {
        var lines = Peer.Run("torch_cnn.py", $"--arch {arch} --opt {opt} --lr {lr} --epochs {epochs}");
        var s = lines?.LastOrDefault(l => l.GetProperty("kind").GetString() == "summary");
        if (s is not { } summary) return null;
        Console.WriteLine($"  PyTorch {arch} epochs: median {summary.GetProperty("median_ep2_4_s").GetDouble():F2} s; test accuracy {summary.GetProperty("test_acc").GetDouble():F4}");
        return summary.GetProperty("median_ep2_4_s").GetDouble();
    }

    /// <summary>Median one-image latency (seconds) and best time for the 10,000 test images in batches of 1000, as torch_cnn.py --infer.</summary>
    public static (double single, double batch10k) Inference(Dataset test, string arch)
    {
        var model = Build(arch);
        model.Build(28, 28);
        var x = test.ImagesAsTensor();
        var probs = new float[10];
        for (int i = 0; i < 50; i++) model.Predict(x.Row(i), probs);
        var lat = new double[1000];
        for (int i = 0; i < lat.Length; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            model.Predict(x.Row(i), probs);
            lat[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        Array.Sort(lat);
        double best = double.MaxValue;
        for (int r = 0; r < 3; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            model.Predict(x, 1000);
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return (lat[lat.Length / 2], best);
    }

    public static void Profile(Dataset train, string arch, string opt, float lr)
    {
        var model = Build(arch);
        model.Compile("categorical_crossentropy", NewOptimizer(opt, lr), ["accuracy"]);
        Harness.Profile(model, train, 128, reps: 20);
    }

    /// <summary>Time per op of one forward pass in inference mode, for a batch of <paramref name="batch"/> test images.</summary>
    public static void ProfileInference(Dataset test, string arch, int batch, int reps = 300) => ProfileInference(test, Build(arch), batch, reps);

    /// <summary>Microseconds per op of one inference pass of <paramref name="model"/> on the first <paramref name="batch"/> test images.</summary>
    public static void ProfileInference(Dataset test, Sequential model, int batch, int reps = 300)
    {
        model.Build(28, 28);
        var x = test.ImagesAsTensor();
        model.Predict(x[0..batch]);
        var output = (Node)typeof(Sequential).GetField("_output", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(model)!;
        var order = output.Order;
        var fwd = new double[order.Length];
        for (int r = 0; r < reps; r++)
            for (int i = 0; i < order.Length; i++) { long t0 = Stopwatch.GetTimestamp(); order[i].Forward(); fwd[i] += Stopwatch.GetElapsedTime(t0).TotalMicroseconds; }
        Console.WriteLine($"op                                   forward µs   (inference, batch {batch})");
        for (int i = 0; i < order.Length; i++) Console.WriteLine($"{order[i].Name,-36} {fwd[i] / reps,10:F1}");
        Console.WriteLine($"{"total",-36} {fwd.Sum() / reps,10:F1}");
    }
}
