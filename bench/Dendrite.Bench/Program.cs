using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using BenchmarkDotNet.Running;
using Dendrite;
using Dendrite.Bench;
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;

// Dendrite's speed against the PyTorch peer measured in the same run. Usage:
//   dotnet run -c Release --project bench/Dendrite.Bench -- all        # every target, as a table
//   ... -- epoch | epoch-adam | epoch-small | infer | gemm | ceiling | profile | profile-small | alloc   # one part
//   The kernels' vector width follows the hardware; DENDRITE_VECTOR_BITS=128|256|512 lowers it (DOTNET_EnableAVX512=0
//   stands in for an AVX2-only machine, DOTNET_EnableAVX2=0 for one without AVX2 or FMA).
//   ... -- cnn | cnn-big | cnn-infer | cnn-profile [convnet|cnn]     # Keras's MNIST convnets against torch_cnn.py
//   ... -- cnn-infer-profile [convnet|cnn] [batch]                   # time per op of one inference pass
//   ... -- infer-profile [batch]                                     # the same for 784-1024-10
//   ... -- bdn [BenchmarkDotNet args]                                # kernel micro-benchmarks
//   --no-peer skips PyTorch.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var argv = args.ToList();
bool peer = !argv.Remove("--no-peer");
string mode = argv.Count > 0 ? argv[0] : "all";
if (mode == "bdn") { BenchmarkSwitcher.FromAssembly(typeof(GemmBenchmarks).Assembly).Run(argv.Skip(1).ToArray()); return; }

var rows = new List<(string work, string ours, string theirs, string ratio, string target, bool met)>();
void Row(string work, double ours, double? theirs, string unit, double target, bool lowerIsBetter = true, string? fmt = null, bool metAnyway = false)
{
    fmt ??= "F3";
    if (theirs is not double positive || !(positive > 0) || !double.IsFinite(positive)) theirs = null;   // a failed peer measurement
    double? ratio = theirs is double t ? ours / t : null;
    bool met = metAnyway || ratio is double r && (lowerIsBetter ? r <= target : r >= target);
    rows.Add((work, $"{ours.ToString(fmt)} {unit}", theirs is double th ? $"{th.ToString(fmt)} {unit}" : "n/a",
        ratio is double rr ? $"{rr:F2}x" : "n/a", $"{(lowerIsBetter ? "≤" : "≥")} {target:F1}x", met));
    Console.WriteLine($"{work}: Dendrite {ours.ToString(fmt)} {unit}, PyTorch {(theirs is double x ? x.ToString(fmt) : "n/a")} {unit}, ratio {(ratio is double q ? q.ToString("F2") : "n/a")} (target {(lowerIsBetter ? "≤" : "≥")} {target})");
}

var (train, test) = Mnist.Load();

// The machine's ceiling first: every GEMM figure below is read against it.
double ceiling = mode is "all" or "gemm" or "ceiling" ? Ceiling.Print() : 0;

if (mode is "all" or "epoch")
{
    double ours = Harness.EpochSeconds(train, [1024], 0.1f, 128, raw: false, epochs: 4);
    double? theirs = peer ? Harness.PeerEpoch("--hidden 1024 --lr 0.1 --batch 128 --epochs 4") : null;
    Row("784-1024-10, batch 128: s/epoch", ours, theirs, "s", 0.7);
}
if (mode is "all" or "epoch-adam")
{
    // Adam's update streams the weights, both moments and the gradient: it must not be the bottleneck.
    double sgd = Harness.EpochSeconds(train, [1024], 0.1f, 128, raw: false, epochs: 4);
    double adam = Harness.EpochSeconds(train, [1024], 0.001f, 128, raw: false, epochs: 4, optimizer: new Adam());
    Console.WriteLine($"784-1024-10, batch 128: Adam {adam:F3} s/epoch, SGD {sgd:F3} s/epoch, ratio {adam / sgd:F2} (target ≤ 1.1)");
    rows.Add(("784-1024-10, batch 128: Adam s/epoch against SGD's", $"{adam:F3} s", $"SGD {sgd:F3} s", $"{adam / sgd:F2}x", "≤ 1.1x", adam / sgd <= 1.1));
}
if (mode is "all" or "epoch-small")
{
    double ours = Harness.EpochSeconds(train, [128, 128, 128], 0.001f, 32, raw: true, epochs: 4);
    double? theirs = peer ? Harness.PeerEpoch("--hidden 128,128,128 --lr 0.001 --batch 32 --epochs 4 --raw --init keras") : null;
    Row("784-128x3-10, batch 32: s/epoch", ours, theirs, "s", 0.3);
}
if (mode is "all" or "infer")
{
    var (single, singleDense, batch10k) = Harness.Inference(test);
    var p = peer ? Peer.Run("torch_infer.py", "")?.LastOrDefault() : null;
    Row("one-image prediction 784-1024-10", single * 1e6, p?.GetProperty("single_median_us").GetDouble(), "µs", 0.5, fmt: "F1");
    // PyTorch's time does not depend on the pixels; ours does (zero inputs are skipped): the same on inputs with no zero.
    Row("one-image prediction, input with no zero pixel", singleDense * 1e6, p?.GetProperty("single_median_us").GetDouble(), "µs", 0.5, fmt: "F1");
    Row("10,000 images in batches of 1000", batch10k, p?.GetProperty("test10k_min_s").GetDouble(), "s", 0.8, fmt: "F4");
}
if (mode is "all" or "gemm")
{
    var peerGemm = peer ? Peer.Run("gemm_ceiling.py", "--lib torch --threads 2 --min-time 0.5") : null;
    // The 10-wide backward shapes are not in the shared script: bench/peers/gemm_narrow.py measures them the same way.
    if (peerGemm is not null && Peer.Run(Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "peers", "gemm_narrow.py")), "--threads 2") is { } narrow) peerGemm.AddRange(narrow);
    foreach (var (name, m, k, n, ta, tb, target) in Harness.GemmShapes)
    {
        double ours = Harness.GemmGflops(m, k, n, ta, tb);
        double? theirs = peerGemm?.FirstOrDefault(e => e.GetProperty("shape").GetString() == name) is { ValueKind: JsonValueKind.Object } e ? e.GetProperty("gflops_best").GetDouble() : null;
        // Met at 75% of the measured ceiling on the GEMM's own vector width, or at the ratio to the peer.
        double pct = 100 * ours / ceiling;
        Row($"GEMM {name} {m}x{k}x{n}: GFLOP/s ({pct:F0}% of ceiling)", ours, theirs, "GFLOP/s", target, lowerIsBetter: false, fmt: "F0", metAnyway: pct >= 75);
    }
}
if (mode is "all" or "alloc")
{
    var (bytesPerEpoch, peakMb) = Harness.Allocation(train);
    Console.WriteLine($"allocation: {bytesPerEpoch:N0} bytes per epoch in steady state (784-1024-10, batch 128); peak working set {peakMb:F0} MB");
    rows.Add(("allocated per epoch, steady state", $"{bytesPerEpoch:N0} B", "", "", "0 B per step", bytesPerEpoch < 469 * 8));
    rows.Add(("peak memory training MNIST", $"{peakMb:F0} MB", "", "", "< 300 MB", peakMb < 300));
}
string cnnOpt = Environment.GetEnvironmentVariable("DENDRITE_BENCH_OPT") ?? "adam";
float cnnLr = cnnOpt == "sgd" ? 0.05f : 0.001f;
if (mode is "all" or "cnn")
{
    double ours = Cnn.EpochSeconds(train, test, "convnet", cnnOpt, cnnLr, epochs: 3);
    double? theirs = peer ? Cnn.PeerEpoch("convnet", cnnOpt, cnnLr, epochs: 3) : null;
    Row($"Keras convnet (34,826 params), {cnnOpt}, batch 128: s/epoch", ours, theirs, "s", 1.0, fmt: "F2");
}
if (mode is "all" or "cnn-big")
{
    double ours = Cnn.EpochSeconds(train, test, "cnn", cnnOpt, cnnLr, epochs: 2);
    double? theirs = peer ? Cnn.PeerEpoch("cnn", cnnOpt, cnnLr, epochs: 2) : null;
    Row($"mnist_cnn (1,199,882 params), {cnnOpt}, batch 128: s/epoch", ours, theirs, "s", 1.0, fmt: "F2");
}
if (mode is "all" or "cnn-infer")
{
    var (single, batch10k) = Cnn.Inference(test, "convnet");
    var p = peer ? Peer.Run("torch_cnn.py", "--arch convnet --infer")?.LastOrDefault() : null;
    Row("convnet one-image prediction", single * 1e6, p?.GetProperty("single_median_us").GetDouble(), "µs", 1.0, fmt: "F1");
    Row("convnet 10,000 images in batches of 1000", batch10k, p?.GetProperty("test10k_min_s").GetDouble(), "s", 1.0, fmt: "F4");
}
if (mode == "infer-profile") Cnn.ProfileInference(test, Harness.Mlp([1024], raw: false), argv.Count > 1 ? int.Parse(argv[1]) : 1, reps: 3000);
if (mode == "cnn-infer-profile") Cnn.ProfileInference(test, argv.Count > 1 ? argv[1] : "convnet", argv.Count > 2 ? int.Parse(argv[2]) : 1);
if (mode == "cnn-profile") Cnn.Profile(train, argv.Count > 1 ? argv[1] : "convnet", cnnOpt, cnnLr);
if (mode == "profile") Harness.Profile(train, [1024], 128, raw: false, lr: 0.1f);
if (mode == "profile-small") Harness.Profile(train, [128, 128, 128], 32, raw: true, lr: 0.001f);

if (rows.Count > 0)
{
    Console.WriteLine();
    Console.WriteLine($"| work | Dendrite | PyTorch ({Peer.BestConfig}) | ratio | target | met |");
    Console.WriteLine("|---|---|---|---|---|---|");
    foreach (var r in rows) Console.WriteLine($"| {r.work} | {r.ours} | {r.theirs} | {r.ratio} | {r.target} | {(r.met ? "yes" : r.ratio == "n/a" ? "n/a (no peer figure)" : "no")} |");
    Console.WriteLine($"\n{Environment.ProcessorCount} cores, {Parallelism.MaxThreads} kernel threads, kernels on {Simd.Describe(Simd.Floats)}" +
        (ceiling > 0 ? $", ceiling {ceiling:F0} GFLOP/s on {Parallelism.MaxThreads} threads" : ""));
}
