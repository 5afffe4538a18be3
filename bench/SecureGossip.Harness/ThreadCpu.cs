using System.Globalization;
using System.Text.Json.Nodes;

namespace SecureGossip.Harness;

/// <summary>
/// The process's CPU time by kind of thread (verifiers, thread-pool workers, the collector, the rest), read from
/// <c>/proc/self/task/*/schedstat</c> (nanoseconds on the CPU) on Linux, so a phase can say where its CPU went; empty
/// elsewhere. A thread that ended between two reads is missing from the second, so groups are deltas of what is seen.
/// </summary>
internal static class ThreadCpu
{
    /// <summary>Milliseconds of CPU per thread group, summed over the threads alive now.</summary>
    public static Dictionary<string, double> Read()
    {
        var groups = new Dictionary<string, double>();
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/proc/self/task"))
        {
            return groups;
        }

        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                string comm = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                string schedstat = File.ReadAllText(Path.Combine(task, "schedstat"));
                double ms = long.Parse(schedstat.AsSpan(0, schedstat.IndexOf(' ')), CultureInfo.InvariantCulture) / 1e6;
                string group = Group(comm);
                groups[group] = groups.GetValueOrDefault(group) + ms;
            }
            catch (IOException)
            {
                // The thread ended while it was read.
            }
        }

        return groups;
    }

    /// <summary>What each group spent between two reads.</summary>
    public static JsonObject Delta(Dictionary<string, double> before, Dictionary<string, double> after)
    {
        var delta = new JsonObject();
        foreach ((string group, double ms) in after.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            delta[group] = Math.Round(ms - before.GetValueOrDefault(group), 1);
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
