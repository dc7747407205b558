using System.Reflection;

namespace Dendrite.Tests;

/// <summary>The kernel worker pool: parts are claimed, never lost or run twice, whichever thread gets to them.</summary>
[Collection("Kernel settings")]
public class WorkerPoolTests
{
    private sealed class CountingWork(int parts) : IParallelWork
    {
        public readonly int[] Runs = new int[parts];
        public int ThrowOnPart = -1;

        public void Execute(int part, int total)
        {
            Assert.Equal(Runs.Length, total);
            Interlocked.Increment(ref Runs[part]);
            if (part == ThrowOnPart) throw new InvalidOperationException($"part {part} failed");
        }
    }

    [Fact]
    public void EveryPartOfEveryJobRunsExactlyOnce()
    {
        // Many tiny jobs back to back: workers wake late, claim parts while the caller claims others, see a job closed.
        foreach (int parts in new[] { 2, 3, 5 })
        {
            var work = new CountingWork(parts);
            const int jobs = 20_000;
            for (int j = 0; j < jobs; j++) RunExclusive(work, parts);
            Assert.All(work.Runs, count => Assert.Equal(jobs, count));
        }
    }

    [Fact]
    public void AFailingPartFailsItsJobAndThePoolGoesOn()
    {
        var work = new CountingWork(2) { ThrowOnPart = 1 };
        var ex = Record.Exception(() => RunExclusive(work, 2));
        Assert.NotNull(ex);
        Assert.Contains("part 1 failed", ex is AggregateException agg ? agg.InnerException!.Message : ex.Message);
        var ok = new CountingWork(2);
        RunExclusive(ok, 2);
        Assert.Equal([1, 1], ok.Runs);
    }

    [Fact]
    public void TheGenerationWrapsWithoutLosingAJob()
    {
        var ticket = typeof(Parallelism).GetField("_ticket", BindingFlags.NonPublic | BindingFlags.Static)!;
        var work = new CountingWork(2);
        lock (Gate)
        {
            Assert.True(Parallelism.TryAcquire());
            try
            {
                ticket.SetValue(null, ((long)(int.MaxValue - 3) << 32) | int.MaxValue);   // four jobs from the wrap
                for (int j = 0; j < 10; j++) Parallelism.Run(work, 2);
            }
            finally { Parallelism.Release(); }
        }
        Assert.Equal([10, 10], work.Runs);
    }

    private static readonly object Gate = new();

    private static void RunExclusive(CountingWork work, int parts)
    {
        lock (Gate)
        {
            Assert.True(Parallelism.TryAcquire());
            try { Parallelism.Run(work, parts); }
            finally { Parallelism.Release(); }
        }
    }
}
