using System.Diagnostics;

namespace Dendrite;

/// <summary>Work split into parts; part p of n runs on one thread.</summary>
internal interface IParallelWork
{
    void Execute(int part, int parts);
}

/// <summary>
/// A fixed set of worker threads that run the parts of one job at a time. Dispatch costs no
/// allocation and no lock: the caller publishes a ticket (the job's generation and its next unclaimed part) that idle
/// workers watch, and every thread, the caller included, claims parts from it until none is left; so a job never waits
/// for a thread that is slow to wake, and a part's result does not depend on which thread ran it. A worker
/// spins for a short while after each job (a training step's kernels come every few tens of
/// microseconds, and waking a blocked thread on a virtual machine can take far longer than that),
/// then blocks on its event so an idle process burns no CPU. One caller at a time gets the pool; a
/// second concurrent caller runs its parts inline, which gives the same results because parts never
/// share outputs.
/// </summary>
public static class Parallelism
{
    private static int _maxThreads = InitialThreads();
    private static Worker[] _workers = [];
    private static int _busy;
    private static IParallelWork? _work;
    private static int _parts;
    private static int _remaining;
    /// <summary>The job's generation (high 32 bits) and the next part not yet claimed (low 32 bits), claimed by compare-exchange.</summary>
    private static long _ticket;
    private static Exception? _error;
    private static readonly object StartLock = new();

    /// <summary>How long an idle worker spins before it blocks.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 µs

    /// <summary>
    /// Threads used by the kernels (default: DENDRITE_THREADS or the processor count). The same
    /// seed gives the same weights whatever this is: every output element is computed by one thread
    /// in a fixed order.
    /// </summary>
    public static int MaxThreads
    {
        get => _maxThreads;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), value, "Invalid value received for argument `MaxThreads`. Expected at least 1.");
            _maxThreads = value;
        }
    }

    private static int InitialThreads()
    {
        var s = Environment.GetEnvironmentVariable("DENDRITE_THREADS");
        return int.TryParse(s, out int t) && t > 0 ? t : Environment.ProcessorCount;
    }

    /// <summary>Takes the pool for this caller, or returns false if another caller has it.</summary>
    internal static bool TryAcquire() => Interlocked.CompareExchange(ref _busy, 1, 0) == 0;

    internal static void Release() => Volatile.Write(ref _busy, 0);

    /// <summary>Runs parts 0..parts-1 of <paramref name="work"/>; the caller runs part 0. Caller must hold the pool.</summary>
    internal static void Run(IParallelWork work, int parts)
    {
        if (parts <= 1) { work.Execute(0, 1); return; }
        EnsureWorkers(parts - 1);
        _work = work;
        _parts = parts;
        _error = null;
        Volatile.Write(ref _remaining, parts);
        long generation = (int)((Volatile.Read(ref _ticket) >> 32) + 1);   // wraps within 32 bits, as the ticket holds it
        Interlocked.Exchange(ref _ticket, generation << 32);    // full fence: the job is published before any part can be claimed
        for (int i = 0; i < parts - 1; i++) _workers[i].WakeIfSleeping();
        Exception? own = null;
        try { ClaimParts(generation); }
        catch (Exception e) { own = e; }
        // Parts are claimed, not assigned: a worker that wakes late finds them done by this thread (so a split never waits
        // on a sleeping thread); one that has claimed a part is waited for.
        var spin = new SpinWait();
        while (Volatile.Read(ref _remaining) != 0) spin.SpinOnce(sleep1Threshold: -1);
        // Close the job before the next one rewrites _work and _parts: a thread that read this ticket late could otherwise
        // compare its part with the next job's count and claim it under this generation.
        Interlocked.Exchange(ref _ticket, (generation << 32) | int.MaxValue);
        _work = null;
        if (own is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(own);
        if (_error is { } e2) throw new AggregateException("A kernel worker thread failed.", e2);
    }

    /// <summary>Runs unclaimed parts of job <paramref name="generation"/> until none is left. A part's exception is rethrown
    /// after it is counted as done, so the job still completes.</summary>
    private static void ClaimParts(long generation)
    {
        Exception? first = null;
        while (true)
        {
            long t = Volatile.Read(ref _ticket);
            if (t >> 32 != generation) break;
            int part = (int)(t & 0xFFFFFFFF), parts = _parts;
            if (part >= parts) break;
            if (Interlocked.CompareExchange(ref _ticket, t + 1, t) != t) continue;
            try { _work!.Execute(part, parts); }
            catch (Exception e) { first ??= e; }
            finally { Interlocked.Decrement(ref _remaining); }
        }
        if (first is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
    }

    internal static void RunOrInline(IParallelWork work, int parts)
    {
        if (parts > 1 && TryAcquire())
        {
            try { Run(work, parts); }
            finally { Release(); }
            return;
        }
        for (int p = 0; p < parts; p++) work.Execute(p, parts);
    }

    private static void EnsureWorkers(int count)
    {
        if (_workers.Length >= count) return;
        lock (StartLock)
        {
            if (_workers.Length >= count) return;
            var all = new Worker[count];
            Array.Copy(_workers, all, _workers.Length);
            for (int i = _workers.Length; i < count; i++) all[i] = new Worker(i + 1, Volatile.Read(ref _ticket) >> 32);
            _workers = all;
        }
    }

    /// <summary>
    /// Bytes allocated so far by the calling thread and by the worker threads in the parts they ran: what a test of
    /// "nothing allocates" counts, leaving out threads that are not Dendrite's (a test runner's, a timer's).
    /// </summary>
    internal static long AllocatedBytes()
    {
        long total = GC.GetAllocatedBytesForCurrentThread();
        foreach (var w in Volatile.Read(ref _workers)) total += w.Allocated;
        return total;
    }

    private sealed class Worker
    {
        private readonly ManualResetEventSlim _wake = new(false, 0);
        private long _seen;
        private int _sleeping;
        private long _allocated;

        /// <summary>Bytes this worker thread had allocated when it finished its last part.</summary>
        public long Allocated => Volatile.Read(ref _allocated);

        public Worker(int number, long generation)
        {
            _seen = generation;
            new Thread(Loop) { IsBackground = true, Name = $"dendrite-kernel-{number}" }.Start();
        }

        public void WakeIfSleeping()
        {
            if (Volatile.Read(ref _sleeping) != 0) _wake.Set();
        }

        private void Loop()
        {
            while (true)
            {
                long idleSince = Stopwatch.GetTimestamp();
                while (Volatile.Read(ref _ticket) >> 32 == _seen)
                {
                    // A tight spin (a few pause instructions between looks), not SpinWait's growing back-off: a job of a few
                    // microseconds is over before a backed-off worker looks again, and the caller then runs every part.
                    if (Stopwatch.GetTimestamp() - idleSince < SpinTicks) { Thread.SpinWait(8); continue; }
                    // Dekker-style hand-off: announce sleep, then re-check; Run() publishes the ticket, then checks _sleeping.
                    Interlocked.Exchange(ref _sleeping, 1);
                    if (Volatile.Read(ref _ticket) >> 32 == _seen) _wake.Wait();
                    _wake.Reset();
                    Interlocked.Exchange(ref _sleeping, 0);
                    idleSince = Stopwatch.GetTimestamp();
                }
                _seen = Volatile.Read(ref _ticket) >> 32;
                try { ClaimParts(_seen); }
                catch (Exception e) { _error = e; }
                Volatile.Write(ref _allocated, GC.GetAllocatedBytesForCurrentThread());
            }
        }
    }
}
