using System.Collections.Concurrent;

namespace SecureGossip.Protocol;

/// <summary>
/// One background thread per core that runs signature verifications, shared by every node in the process.
/// Verifications are CPU-bound and ~25 times costlier than the rest of a line; on the thread pool they would fill
/// its queue and delay the read and commit loops queued behind them, leaving cores idle between batches. On their
/// own threads the operating system interleaves them with the I/O work instead.
/// </summary>
internal static class VerifierPool
{
    private static readonly ConcurrentQueue<IThreadPoolWorkItem> s_queue = new();
    private static readonly SemaphoreSlim s_ready = new(0);
    private static readonly Lazy<Thread[]> s_threads = new(StartThreads);

    public static void Enqueue(IThreadPoolWorkItem work)
    {
        _ = s_threads.Value;
        s_queue.Enqueue(work);
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
            if (s_queue.TryDequeue(out IThreadPoolWorkItem? work))
            {
                work.Execute(); // never throws: a job reports its own failure to whoever awaits it
            }
        }
    }
}
