using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace SecureGossip.Tests.Faults;

/// <summary>
/// The frame of one fault test: a temp directory, a seeded <see cref="Random"/> (seed printed; set
/// SGOSSIP_FAULT_SEED to replay one), every node process started (killed on dispose), a timestamped log, and
/// on failure the stderr tails of every node life written to the test output.
/// </summary>
internal sealed class FaultRun : IAsyncDisposable
{
    /// <summary>How long a node may take to start and print its key and address on this shared 2-core machine.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly ITestOutputHelper _output;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<NodeProcess> _nodes = [];
    private readonly List<IAsyncDisposable> _resources = [];

    public FaultRun(ITestOutputHelper output, string name)
    {
        _output = output;
        Directory = System.IO.Directory.CreateTempSubdirectory($"sgossip-fault-{name}-").FullName;
        string? fixedSeed = Environment.GetEnvironmentVariable("SGOSSIP_FAULT_SEED");
        Seed = fixedSeed is null ? Random.Shared.Next() : int.Parse(fixedSeed, CultureInfo.InvariantCulture);
        Random = new Random(Seed);
        Log($"{name}: seed {Seed} (replay with SGOSSIP_FAULT_SEED={Seed}), directory {Directory}");
    }

    public string Directory { get; }

    public int Seed { get; }

    public Random Random { get; }

    public string PathFor(string fileName) => Path.Combine(Directory, fileName);

    public void Log(string message)
    {
        try
        {
            _output.WriteLine($"[{_clock.Elapsed.TotalSeconds,7:0.000}s] {message}");
        }
        catch (InvalidOperationException)
        {
            // the test has already ended (a late background log line)
        }
    }

    /// <summary>Starts a node process; it is killed when the run is disposed.</summary>
    public async Task<NodeProcess> StartNodeAsync(string name, IEnumerable<string> arguments, string? namespaceName = null)
    {
        NodeProcess node = await NodeProcess.StartAsync(name, arguments, StartTimeout, namespaceName);
        lock (_nodes)
        {
            _nodes.Add(node);
        }

        Log($"started {name} (pid {node.Id}{(node.Port != 0 ? $", port {node.Port}" : "")}, key {node.PublicKey[..8]}…)");
        return node;
    }

    /// <summary>Disposes <paramref name="resource"/> (a proxy, namespaces) with the run, after the nodes.</summary>
    public T Own<T>(T resource)
        where T : IAsyncDisposable
    {
        _resources.Add(resource);
        return resource;
    }

    /// <summary>Runs the test body; on failure writes every node life's stderr tail to the test output and rethrows.</summary>
    public async Task RunAsync(Func<Task> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            await body();
            Log("passed");
        }
        catch (Exception e)
        {
            Log($"FAILED: {e.GetType().Name}: {e.Message}");
            List<NodeProcess> nodes;
            lock (_nodes)
            {
                nodes = [.. _nodes];
            }

            foreach (NodeProcess node in nodes)
            {
                _output.WriteLine(node.StderrTail());
            }

            throw;
        }
    }

    /// <summary>
    /// Awaits a wait that may time out; a timeout is logged and reported as false, so the test goes on to its
    /// exactly-once assertion, whose report (what was lost, what came twice) says more than the timeout.
    /// </summary>
    public async Task<bool> CompletesAsync(Task wait)
    {
        ArgumentNullException.ThrowIfNull(wait);
        try
        {
            await wait;
            return true;
        }
        catch (TimeoutException e)
        {
            Log($"timed out: {e.Message}");
            return false;
        }
    }

    /// <summary>
    /// Asserts that <paramref name="lines"/> hold every number in <paramref name="expected"/> exactly once, from
    /// <paramref name="author"/> only, and nothing else (numbers at or above <paramref name="ignoreFrom"/> are markers).
    /// </summary>
    public static void AssertExactlyOnce(IReadOnlyCollection<ReceivedLine> lines, IEnumerable<int> expected, string author, string what, int ignoreFrom = int.MaxValue)
    {
        var counts = lines.Where(l => l.N < ignoreFrom).GroupBy(l => l.N).ToDictionary(g => g.Key, g => g.Count());
        var wanted = expected.ToHashSet();
        int[] missing = [.. wanted.Where(n => !counts.ContainsKey(n)).Order()];
        int[] twice = [.. counts.Where(c => c.Value > 1).Select(c => c.Key).Order()];
        int[] unexpected = [.. counts.Keys.Where(n => !wanted.Contains(n)).Order()];
        string[] strangers = [.. lines.Select(l => l.From).Where(f => f != author).Distinct()];
        var problems = new StringBuilder();
        if (missing.Length > 0)
        {
            problems.Append(CultureInfo.InvariantCulture, $"\n  LOST {missing.Length} of {wanted.Count}: {Ranges(missing)}");
        }

        if (twice.Length > 0)
        {
            problems.Append(CultureInfo.InvariantCulture, $"\n  DELIVERED TWICE {twice.Length}: {Ranges(twice)} ({lines.Count} lines for {counts.Count} distinct)");
        }

        if (unexpected.Length > 0)
        {
            problems.Append(CultureInfo.InvariantCulture, $"\n  never published: {Ranges(unexpected)}");
        }

        if (strangers.Length > 0)
        {
            problems.Append(CultureInfo.InvariantCulture, $"\n  from other authors: {string.Join(", ", strangers)}");
        }

        Assert.True(problems.Length == 0, $"{what}:{problems}");
    }

    /// <summary>"0-99, 120, 130-131": a short form of a sorted list of numbers.</summary>
    public static string Ranges(IReadOnlyList<int> sorted)
    {
        var parts = new List<string>();
        for (int i = 0; i < sorted.Count;)
        {
            int j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1)
            {
                j++;
            }

            parts.Add(i == j ? sorted[i].ToString(CultureInfo.InvariantCulture) : $"{sorted[i]}-{sorted[j]}");
            i = j + 1;
        }

        return parts.Count > 40 ? string.Join(", ", parts.Take(40)) + $", … ({parts.Count} runs)" : string.Join(", ", parts);
    }

    /// <summary>
    /// Publishes <c>{"n":i}</c> for each number through <paramref name="publisher"/>'s stdin, in bursts of 1-<paramref name="maxBurst"/>
    /// lines 0-<paramref name="maxPauseMilliseconds"/> ms apart (a seeded pattern), as a stream rather than one write. Stops quietly if the process dies,
    /// and returns how many lines were written.
    /// </summary>
    public static async Task<int> StreamAsync(NodeProcess publisher, IEnumerable<int> numbers, int seed, string padding = "", int maxBurst = 10, int maxPauseMilliseconds = 20)
    {
        ArgumentNullException.ThrowIfNull(publisher);
        var random = new Random(seed);
        int written = 0, burst = 0;
        try
        {
            foreach (int n in numbers)
            {
                await publisher.PublishAsync(n, padding);
                written++;
                if (++burst >= random.Next(1, maxBurst + 1))
                {
                    burst = 0;
                    await Task.Delay(random.Next(0, maxPauseMilliseconds + 1));
                }
            }
        }
        catch (IOException)
        {
            // the publisher was killed under us: what it read and published is what the test checks
        }

        return written;
    }

    /// <summary>A port that was free a moment ago, for a node that must come back on the same port.</summary>
    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public async ValueTask DisposeAsync()
    {
        List<NodeProcess> nodes;
        lock (_nodes)
        {
            nodes = [.. _nodes];
        }

        foreach (NodeProcess node in nodes)
        {
            await node.DisposeAsync();
        }
        for (int i = _resources.Count - 1; i >= 0; i--)
        {
            await _resources[i].DisposeAsync();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
