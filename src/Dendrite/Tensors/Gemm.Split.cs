using System.Collections.Concurrent;
using System.Diagnostics;

namespace Dendrite;

public static unsafe partial class Gemm
{
    /// <summary>Calls of each kind (split, then one thread) timed before a shape's choice is made; the first of each kind is not counted.</summary>
    private const int TrialCalls = 5;

    /// <summary>Shapes measured at most: past this, a new shape keeps the size rule's choice unmeasured.</summary>
    private const int MaxMeasuredShapes = 4096;

    private readonly record struct SplitKey(bool TransA, bool TransB, int M, int N, int K, bool Accumulate, int Threads);

    /// <summary>What the first calls of one shape measured: the best time split and on one thread, and the choice once made.</summary>
    private sealed class SplitTrial
    {
        public int Calls;
        public long BestSplit = long.MaxValue, BestSingle = long.MaxValue;
        /// <summary>0 while measuring, 1 for one thread, 2 for the split.</summary>
        public volatile int Choice;
    }

    private static readonly ConcurrentDictionary<SplitKey, SplitTrial> SplitTrials = new();

    /// <summary>
    /// Whether a product the size rule would split (<see cref="ChooseThreads"/>) is faster split, decided per shape by
    /// timing its first calls where they run: <see cref="TrialCalls"/> split, then as many on one thread, the best of
    /// each compared. A split pays in arithmetic but costs moving its operands' cache lines between the cores: the next
    /// write to an operand the other core has read (the next batch copied into the same input, the weights updated)
    /// waits for those lines. How much that costs is the machine's (cores sharing an L3 cache exchange lines far faster
    /// than vCPUs on different dies), and it weighs most on short products: on the 2-vCPU Zen 5 this project measures
    /// on, a 784-128-128-128 network with batch 32 took 0.27 s an epoch on one thread and 0.33–0.40 split, where writing
    /// the next batch into the input the other core had read took 70 µs instead of 16. The time of the calls it makes
    /// is measured as they run, surrounding traffic included; the results are the same either way (every element of C
    /// is summed in the same order whatever the split).
    /// </summary>
    private static SplitTrial? TrialFor(in SplitKey key, out bool single)
    {
        single = false;
        if (!SplitTrials.TryGetValue(key, out var trial))
        {
            if (SplitTrials.Count >= MaxMeasuredShapes) return null;
            trial = SplitTrials.GetOrAdd(key, _ => new SplitTrial());
        }
        int choice = trial.Choice;
        if (choice != 0) { single = choice == 1; return null; }
        int call = Interlocked.Increment(ref trial.Calls);
        if (call > 2 * (TrialCalls + 1)) return null;       // another thread is deciding
        single = call > TrialCalls + 1;
        return call == 1 || call == TrialCalls + 2 ? null : trial;   // the first call of each kind warms up, uncounted
    }

    private static void Record(SplitTrial trial, bool single, long ticks)
    {
        ref long best = ref single ? ref trial.BestSingle : ref trial.BestSplit;
        long seen;
        while (ticks < (seen = Volatile.Read(ref best)) && Interlocked.CompareExchange(ref best, ticks, seen) != seen) { }
        if (Volatile.Read(ref trial.Calls) >= 2 * (TrialCalls + 1) && single && trial.Choice == 0)
        {
            long split = Volatile.Read(ref trial.BestSplit), one = Volatile.Read(ref trial.BestSingle);
            if (split != long.MaxValue && one != long.MaxValue) trial.Choice = one <= split ? 1 : 2;
        }
    }

    /// <summary>Runs <paramref name="job"/> on <paramref name="threads"/> threads (or inline if another caller holds the pool),
    /// or on one where the measurement of shape <paramref name="key"/> says so; a null key is not measured.</summary>
    private static void RunSplit(in Job job, int threads, bool splitN, SplitKey? key)
    {
        bool single = false;
        var trial = key is { } shape ? TrialFor(shape, out single) : null;
        long start = trial is null ? 0 : Stopwatch.GetTimestamp();
        bool ranSplit = false;
        if (!single && Parallelism.TryAcquire())
        {
            try
            {
                SharedJob.Job = job;
                SharedJob.SplitN = splitN;
                Parallelism.Run(SharedJob, threads);
                ranSplit = true;
            }
            finally { Parallelism.Release(); }
        }
        else job.Run(0, job.M, 0, job.N);
        if (trial is not null && ranSplit != single) Record(trial, single, Stopwatch.GetTimestamp() - start);
    }

    /// <summary>Forgets every shape's measurement (tests).</summary>
    internal static void ResetSplitTrials() => SplitTrials.Clear();

    /// <summary>The choice made for a shape: null while measuring or unmeasured, else whether it runs split (tests).</summary>
    internal static bool? SplitChoice(bool transA, bool transB, int m, int n, int k, bool accumulate, int threads) =>
        SplitTrials.TryGetValue(new SplitKey(transA, transB, m, n, k, accumulate, threads), out var t) && t.Choice != 0 ? t.Choice == 2 : null;
}
