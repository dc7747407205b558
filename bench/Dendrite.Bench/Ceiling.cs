using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Dendrite;

namespace Dendrite.Bench;

/// <summary>
/// The machine's own floating-point ceiling: a register-only multiply-add loop (12 independent accumulators, enough to
/// hide the FMA latency on two pipes) per vector width, on 1 and on several threads at once. GEMM figures are read as a
/// percentage of it, so they mean the same on any machine. Where FMA is not an instruction the loop multiplies then adds,
/// as the kernels do.
/// </summary>
internal static class Ceiling
{
    private const long Steps = 4_000_000;

    /// <summary>Best of a few runs, GFLOP/s, for a width of 16, 8 or 4 floats on <paramref name="threads"/> threads.</summary>
    public static double Gflops(int floats, int threads)
    {
        Run(floats, 1, Steps / 10);   // JIT and warm-up
        double best = 0;
        for (int rep = 0; rep < 5; rep++) best = Math.Max(best, Run(floats, threads, Steps));
        return best;
    }

    /// <summary>The widths this machine runs in hardware, widest first.</summary>
    public static IEnumerable<int> Widths()
    {
        if (Vector512.IsHardwareAccelerated) yield return 16;
        if (Vector256.IsHardwareAccelerated) yield return 8;
        yield return 4;
    }

    /// <summary>Prints the ceiling table and returns the ceiling on all kernel threads for the GEMM's own width.</summary>
    public static double Print()
    {
        int threads = Parallelism.MaxThreads;
        double forGemm = 0;
        Console.WriteLine($"FMA ceiling (register-only loop), {Environment.ProcessorCount} cores:");
        foreach (int w in Widths())
        {
            double one = Gflops(w, 1), all = threads > 1 ? Gflops(w, threads) : one;
            Console.WriteLine($"  {Simd.Describe(w),-16} 1 thread {one,6:F0} GFLOP/s, {threads} threads {all,6:F0} GFLOP/s{(w == Gemm.VectorWidth ? "   <- the GEMM's path" : "")}");
            if (w == Gemm.VectorWidth) forGemm = all;
        }
        Console.WriteLine($"Caches: {CacheInfo.Describe()}; GEMM blocking on the {Simd.Describe(Gemm.VectorWidth)} path: {GemmBlocking.For(Gemm.VectorWidth)}");
        return forGemm;
    }

    /// <summary>GFLOP/s summed over the threads, each timed on its own (so that one started late does not count as slow).</summary>
    private static double Run(int floats, int threads, long steps)
    {
        var rates = new double[threads];
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            (workers[t] = new Thread(() =>
            {
                long t0 = Stopwatch.GetTimestamp();
                Sink(Loop(floats, steps));
                rates[id] = 2.0 * 12 * floats * steps / Stopwatch.GetElapsedTime(t0).TotalSeconds / 1e9;
            })).Start();
        }
        foreach (var t in workers) t.Join();
        return rates.Sum();
    }

    private static float Loop(int floats, long steps) => floats switch
    {
        16 => Loop512(steps),
        8 => Loop256(steps),
        _ => Loop128(steps),
    };

    private static volatile float s_sink;
    private static void Sink(float x) => s_sink = x;

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop512(long steps)
    {
        var m = Vector512.Create(0.999999f); var a = Vector512.Create(1e-7f);
        Vector512<float> x0 = Vector512.Create(1f), x1 = x0 + a, x2 = x1 + a, x3 = x2 + a, x4 = x3 + a, x5 = x4 + a,
            x6 = x5 + a, x7 = x6 + a, x8 = x7 + a, x9 = x8 + a, x10 = x9 + a, x11 = x10 + a;
        for (long i = 0; i < steps; i++)
        {
            x0 = Vector512.FusedMultiplyAdd(x0, m, a); x1 = Vector512.FusedMultiplyAdd(x1, m, a); x2 = Vector512.FusedMultiplyAdd(x2, m, a);
            x3 = Vector512.FusedMultiplyAdd(x3, m, a); x4 = Vector512.FusedMultiplyAdd(x4, m, a); x5 = Vector512.FusedMultiplyAdd(x5, m, a);
            x6 = Vector512.FusedMultiplyAdd(x6, m, a); x7 = Vector512.FusedMultiplyAdd(x7, m, a); x8 = Vector512.FusedMultiplyAdd(x8, m, a);
            x9 = Vector512.FusedMultiplyAdd(x9, m, a); x10 = Vector512.FusedMultiplyAdd(x10, m, a); x11 = Vector512.FusedMultiplyAdd(x11, m, a);
        }
        return Vector512.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop256(long steps)
    {
        var m = Vector256.Create(0.999999f); var a = Vector256.Create(1e-7f);
        Vector256<float> x0 = Vector256.Create(1f), x1 = x0 + a, x2 = x1 + a, x3 = x2 + a, x4 = x3 + a, x5 = x4 + a,
            x6 = x5 + a, x7 = x6 + a, x8 = x7 + a, x9 = x8 + a, x10 = x9 + a, x11 = x10 + a;
        for (long i = 0; i < steps; i++)
        {
            x0 = Vector256.MultiplyAddEstimate(x0, m, a); x1 = Vector256.MultiplyAddEstimate(x1, m, a); x2 = Vector256.MultiplyAddEstimate(x2, m, a);
            x3 = Vector256.MultiplyAddEstimate(x3, m, a); x4 = Vector256.MultiplyAddEstimate(x4, m, a); x5 = Vector256.MultiplyAddEstimate(x5, m, a);
            x6 = Vector256.MultiplyAddEstimate(x6, m, a); x7 = Vector256.MultiplyAddEstimate(x7, m, a); x8 = Vector256.MultiplyAddEstimate(x8, m, a);
            x9 = Vector256.MultiplyAddEstimate(x9, m, a); x10 = Vector256.MultiplyAddEstimate(x10, m, a); x11 = Vector256.MultiplyAddEstimate(x11, m, a);
        }
        return Vector256.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Loop128(long steps)
    {
        var m = Vector128.Create(0.999999f); var a = Vector128.Create(1e-7f);
        Vector128<float> x0 = Vector128.Create(1f), x1 = x0 + a, x2 = x1 + a, x3 = x2 + a, x4 = x3 + a, x5 = x4 + a,
            x6 = x5 + a, x7 = x6 + a, x8 = x7 + a, x9 = x8 + a, x10 = x9 + a, x11 = x10 + a;
        for (long i = 0; i < steps; i++)
        {
            x0 = Vector128.MultiplyAddEstimate(x0, m, a); x1 = Vector128.MultiplyAddEstimate(x1, m, a); x2 = Vector128.MultiplyAddEstimate(x2, m, a);
            x3 = Vector128.MultiplyAddEstimate(x3, m, a); x4 = Vector128.MultiplyAddEstimate(x4, m, a); x5 = Vector128.MultiplyAddEstimate(x5, m, a);
            x6 = Vector128.MultiplyAddEstimate(x6, m, a); x7 = Vector128.MultiplyAddEstimate(x7, m, a); x8 = Vector128.MultiplyAddEstimate(x8, m, a);
            x9 = Vector128.MultiplyAddEstimate(x9, m, a); x10 = Vector128.MultiplyAddEstimate(x10, m, a); x11 = Vector128.MultiplyAddEstimate(x11, m, a);
        }
        return Vector128.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
    }
}
