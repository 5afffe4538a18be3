using System.Collections.Concurrent;

namespace SecureGossip.Protocol;

/// <summary>
/// One background thread per core that runs signature verifications, shared by every node in the process.
/// Verifications are CPU-bound and ~25 times costlier than the rest of a line; on the thread pool they would fill
/// its queue and delay the read and commit loops queued behind them, leaving cores idle between batches. On their
/// own threads the operating system interleaves them with the I/O work instead.
/// </summary>
/// <remarks>
/// When every verifier thread has work waiting, a node's actor that would sleep until its next message is verified
/// runs that verification itself (<see cref="Receive.VerifyJob.TryRunHere"/>): the job would wait anyway, and a sleep
/// and a wake-up per message were most of the thread-pool work of a burst (issue #10: 44,000 actor wake-ups for 20,000
/// deliveries on the 200-node warm burst, 3,400 with this). Whoever starts a job first runs it; the queue entry
/// remembers the job's use (<see cref="Receive.VerifyJob.Generation"/>), so an entry of a job the actor already ran and
/// reused is skipped.
/// </remarks>
internal static class VerifierPool
{
    private static readonly ConcurrentQueue<(Receive.VerifyJob Job, int Generation)> s_queue = new();
    private static readonly SemaphoreSlim s_ready = new(0);
    private static readonly Lazy<Thread[]> s_threads = new(StartThreads);

    private static int s_backlog;

    /// <summary>
    /// Whether every verifier thread has a job waiting behind the one it runs: a job queued now would wait, so an actor
    /// waiting on one of its own does better to run it itself (<see cref="Receive.VerifyJob.TryRunHere"/>) than to
    /// sleep until a verifier gets to it and wakes it.
    /// </summary>
    public static bool IsBacklogged => Volatile.Read(ref s_backlog) >= s_threads.Value.Length;

    /// <summary>Queues <paramref name="job"/>'s verification; a job an actor has run itself meanwhile is skipped.</summary>
    public static void Enqueue(Receive.VerifyJob job)
    {
        _ = s_threads.Value;
        s_queue.Enqueue((job, job.Generation));
        Interlocked.Increment(ref s_backlog);
        s_ready.Release();
    }

    private static Thread[] StartThreads()
    {
        var threads = new Thread[Math.Max(1, Environment.ProcessorCount)];
        for (int i = 0; i < threads.Length; i++)
        {
            threads[i] = new Thread(Run) { IsBackground = true, Name = $"SecureGossip verifier {i}" };
            threads[i].Start();
        }

        return threads;
    }

    private static void Run()
    {
        while (true)
        {
            s_ready.Wait();
            if (s_queue.TryDequeue(out (Receive.VerifyJob Job, int Generation) work))
            {
                Interlocked.Decrement(ref s_backlog);
                _ = work.Job.TryRun(work.Generation); // never throws: a job reports its own failure to whoever awaits it
            }
        }
    }
}
