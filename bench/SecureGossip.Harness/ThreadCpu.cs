using System.Globalization;
using System.Text.Json.Nodes;

namespace SecureGossip.Harness;

/// <summary>
/// The process's CPU time by kind of thread (verifiers, thread-pool workers, the collector, the rest), read from
/// <c>/proc/self/task/*/schedstat</c> (nanoseconds on the CPU) on Linux, so a phase can say where its CPU went; empty
/// elsewhere. Threads are matched by id between two reads; one that ended in between is not counted.
/// </summary>
internal static class ThreadCpu
{
    /// <summary>Milliseconds of CPU of each thread alive now, by "group/thread id".</summary>
    public static Dictionary<string, double> Read()
    {
        var threads = new Dictionary<string, double>();
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/proc/self/task"))
        {
            return threads;
        }

        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                string comm = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                string schedstat = File.ReadAllText(Path.Combine(task, "schedstat"));
                double ms = long.Parse(schedstat.AsSpan(0, schedstat.IndexOf(' ')), CultureInfo.InvariantCulture) / 1e6;
                threads[$"{Group(comm)}/{Path.GetFileName(task)}"] = ms;
            }
            catch (IOException)
            {
                // The thread ended while it was read.
            }
        }

        return threads;
    }

    /// <summary>What each group of threads spent between two reads (a thread started in between counts from 0).</summary>
    public static JsonObject Delta(Dictionary<string, double> before, Dictionary<string, double> after)
    {
        var groups = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach ((string thread, double ms) in after)
        {
            string group = thread[..thread.IndexOf('/')];
            groups[group] = groups.GetValueOrDefault(group) + ms - before.GetValueOrDefault(thread);
        }

        var delta = new JsonObject();
        foreach ((string group, double ms) in groups)
        {
            delta[group] = Math.Round(ms, 1);
        }

        return delta;
    }

    // Linux keeps 15 characters of a thread's name.
    private static string Group(string comm) =>
        comm.StartsWith("SecureGossip ve", StringComparison.Ordinal) ? "verifier" :
        comm.StartsWith(".NET TP Worker", StringComparison.Ordinal) ? "thread_pool" :
        comm.StartsWith(".NET Timer", StringComparison.Ordinal) ? "timer" :
        comm.Contains("GC", StringComparison.Ordinal) ? "gc" :
        "other";
}
