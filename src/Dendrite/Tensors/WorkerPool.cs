namespace Dendrite;

/// <summary>Work split into parts; part p of n runs on one thread.</summary>
internal interface IParallelWork
{
    void Execute(int part, int parts);
}

/// <summary>
/// A fixed set of worker threads that run the parts of one job at a time. Dispatch costs no
/// allocation and no lock in the hot path: each worker waits on its own event, which spins
/// briefly and then blocks (a worker that spins on after a call would steal the core from the
/// rest of the training step). One caller at a time gets the pool; a second concurrent caller
/// runs its parts inline, which gives the same results because the parts never share outputs.
/// </summary>
public static class Parallelism
{
    private static int _maxThreads = InitialThreads();
    private static Worker[] _workers = [];
    private static int _busy;
    private static IParallelWork? _work;
    private static int _parts;
    private static int _pending;
    private static Exception? _error;
    private static readonly ManualResetEventSlim Done = new(false, 200);
    private static readonly object StartLock = new();

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
        Volatile.Write(ref _pending, parts - 1);
        Done.Reset();
        for (int i = 0; i < parts - 1; i++) _workers[i].Start.Set();
        try { work.Execute(0, parts); }
        finally
        {
            Done.Wait();
            _work = null;
        }
        if (_error is { } e) throw new AggregateException("A kernel worker thread failed.", e);
    }

    private static void EnsureWorkers(int count)
    {
        if (_workers.Length >= count) return;
        lock (StartLock)
        {
            if (_workers.Length >= count) return;
            var all = new Worker[count];
            Array.Copy(_workers, all, _workers.Length);
            for (int i = _workers.Length; i < count; i++) all[i] = new Worker(i + 1);
            _workers = all;
        }
    }

    private sealed class Worker
    {
        public readonly ManualResetEventSlim Start = new(false, 200);

        public Worker(int part)
        {
            var t = new Thread(() => Loop(part)) { IsBackground = true, Name = $"dendrite-kernel-{part}" };
            t.Start();
        }

        private void Loop(int part)
        {
            while (true)
            {
                Start.Wait();
                Start.Reset();
                try { _work!.Execute(part, _parts); }
                catch (Exception e) { _error = e; }
                if (Interlocked.Decrement(ref _pending) == 0) Done.Set();
            }
        }
    }
}
