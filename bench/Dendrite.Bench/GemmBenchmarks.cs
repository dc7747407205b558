using BenchmarkDotNet.Attributes;

namespace Dendrite.Bench;

/// <summary>BenchmarkDotNet: the GEMM at the training shapes of 784-1024-10 (batch 128) and at 2048³.</summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    [Params("fwd1", "dW1", "dX1", "fwd2", "big")]
    public string Shape { get; set; } = "fwd1";

    private (int m, int k, int n, bool ta, bool tb) Dims => Shape switch
    {
        "fwd1" => (128, 784, 1024, false, false),
        "dW1" => (784, 128, 1024, true, false),
        "dX1" => (128, 1024, 784, false, true),
        "fwd2" => (128, 1024, 10, false, false),
        _ => (2048, 2048, 2048, false, false),
    };

    [GlobalSetup]
    public void Setup()
    {
        var (m, k, n, _, _) = Dims;
        var rng = new Rng(1);
        _a = Enumerable.Range(0, m * k).Select(_ => rng.Uniform(-1, 1)).ToArray();
        _b = Enumerable.Range(0, k * n).Select(_ => rng.Uniform(-1, 1)).ToArray();
        _c = new float[m * n];
    }

    [Benchmark]
    public void Multiply()
    {
        var (m, k, n, ta, tb) = Dims;
        Gemm.Multiply(ta, tb, m, n, k, _a, ta ? m : k, _b, tb ? k : n, _c, n);
    }
}
