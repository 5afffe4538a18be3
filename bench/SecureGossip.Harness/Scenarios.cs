using System.Diagnostics;
using System.Text.Json.Nodes;
using SecureGossip.Crypto;
using SecureGossip.Simulation;
using SecureGossip.Transports;

namespace SecureGossip.Harness;

/// <summary>The .NET side of each scenario; the JS side is the matching script in bench/js.</summary>
internal static class Scenarios
{
    private const string Pad = "0123456789abcdef0123456789abcdef";

    /// <summary>Single-core ed25519 verifications per second: the ceiling on unique messages a core can accept.</summary>
    public static double VerifyRatePerCore(TimeSpan duration)
    {
        using GossipKeys keys = GossipKeys.FromSeed(new byte[32]);
        byte[] data = new byte[300];
        byte[] signature = Convert.FromBase64String(keys.Sign(data).Split('.')[0]);
        byte[] publicKey = keys.PublicKey.ToArray();
        GossipKeys.TryImportPublicKey(publicKey, out NSec.Cryptography.PublicKey? key);
        for (int i = 0; i < 200; i++)
        {
            GossipKeys.Verify(key!, data, signature);
        }

        long count = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            for (int i = 0; i < 100; i++)
            {
                GossipKeys.Verify(key!, data, signature);
            }

            count += 100;
        }

        return count / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Verifications per second with every core verifying at once (what the machine really sustains).</summary>
    public static double VerifyRateAllCores(TimeSpan duration)
    {
        int cores = Environment.ProcessorCount;
        double[] rates = new double[cores];
        Parallel.For(0, cores, new ParallelOptions { MaxDegreeOfParallelism = cores }, i => rates[i] = VerifyRatePerCore(duration));
        return rates.Sum();
    }

    /// <summary>N wire lines from one fresh author (seq 0..N-1), as its node writes them.</summary>
    public static byte[][] SignedLines(int count)
    {
        var node = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan });
        var lines = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            node.PublishJson(System.Text.Encoding.UTF8.GetBytes($"{{\"i\":{i},\"pad\":\"{Pad}\"}}"), out lines[i]);
        }

        node.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return lines;
    }

    /// <summary>Two nodes in one process; A publishes N small messages back to back; time until B has them all.</summary>
    public static async Task<JsonObject> PairAsync(int messages, int intervalMs)
    {
        // A's rounds follow setInterval's schedule (every interval from creation), but none runs while A is
        // publishing: in JS the publish loop holds the only thread, so signing never overlaps receiving.
        TimeSpan interval = TimeSpan.FromMilliseconds(intervalMs);
        long created = Stopwatch.GetTimestamp();
        await using var a = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan });
        await using var b = new GossipNode(new GossipNodeOptions { Interval = interval });
        (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
        _ = a.RunConnectionAsync(left);
        _ = b.RunConnectionAsync(right);

        long first = 0, last = 0;
        TimeSpan cpuFirst = default, cpuLast = default;
        int received = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        b.MessageReceived += (_, _) =>
        {
            long now = Stopwatch.GetTimestamp();
            if (Interlocked.Increment(ref received) == 1)
            {
                first = now;
                cpuFirst = Process.GetCurrentProcess().TotalProcessorTime;
            }

            if (received == messages)
            {
                last = now;
                cpuLast = Process.GetCurrentProcess().TotalProcessorTime;
                done.TrySetResult();
            }
        };

        int gcBefore = GC.CollectionCount(0);
        TimeSpan pauseBefore = GC.GetTotalPauseDuration();
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < messages; i++)
        {
            a.PublishJson($"{{\"i\":{i},\"pad\":\"{Pad}\"}}");
        }

        double sinceCreated = Stopwatch.GetElapsedTime(created).TotalMilliseconds;
        TimeSpan firstRound = TimeSpan.FromMilliseconds(intervalMs - (sinceCreated % intervalMs));
        using ITimer rounds = TimeProvider.System.CreateTimer(_ => a.Gossip(), null, firstRound, interval);
        await done.Task.WaitAsync(TimeSpan.FromMinutes(2));
        double elapsed = Stopwatch.GetElapsedTime(start, last).TotalMilliseconds;
        double ingest = Stopwatch.GetElapsedTime(first, last).TotalMilliseconds;
        return new JsonObject
        {
            ["impl"] = "dotnet",
            ["scenario"] = "pair",
            ["messages"] = messages,
            ["elapsed_ms"] = elapsed,
            ["msgs_per_s"] = messages / (elapsed / 1000),
            ["ingest_ms"] = ingest,
            ["ingest_msgs_per_s"] = (messages - 1) / (ingest / 1000),
            ["received"] = received,
            ["ingest_cpu_ms"] = (cpuLast - cpuFirst).TotalMilliseconds,
            ["gc0_count"] = GC.CollectionCount(0) - gcBefore,
            ["gc_pause_ms"] = (GC.GetTotalPauseDuration() - pauseBefore).TotalMilliseconds,
            ["ingest_cpu_utilization"] = (cpuLast - cpuFirst).TotalMilliseconds / ingest / Environment.ProcessorCount,
        };
    }

    /// <summary>N nodes on a graph; phases of publishes from chosen nodes; time until every node has every message.</summary>
    public static async Task<JsonObject> NetworkAsync(NetworkSpec spec, bool v2Links = false)
    {
        // Each node's rounds start at a random point of the first interval, as separate processes would (and as
        // bench/js/network.js staggers its peers): nodes created together would otherwise tick in lockstep.
        var nodes = new GossipNode[spec.Nodes];
        var timers = new ITimer[spec.Nodes];
        var random = new Random(spec.Nodes);
        TimeSpan interval = TimeSpan.FromMilliseconds(spec.IntervalMs);
        for (int i = 0; i < nodes.Length; i++)
        {
            GossipNode node = nodes[i] = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, AnnounceV2 = v2Links });
            timers[i] = TimeProvider.System.CreateTimer(_ => node.Gossip(), null, interval * random.NextDouble(), interval);
        }

        try
        {
            foreach ((int x, int y) in spec.Edges)
            {
                (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
                _ = nodes[x].RunConnectionAsync(left);
                _ = nodes[y].RunConnectionAsync(right);
            }

            if (v2Links)
            {
                // Every link has to have negotiated before the measured phases start.
                var negotiated = Stopwatch.StartNew();
                while (!nodes.All(n => n.Peers.All(p => p.Version == 2)) && negotiated.Elapsed < TimeSpan.FromSeconds(30))
                {
                    await Task.Delay(10);
                }
            }

            var phases = new JsonArray();
            foreach ((string name, int[] publishers) in spec.Phases)
            {
                phases.Add(await PhaseAsync(nodes, name, publishers, spec.IntervalMs));
            }

            return new JsonObject
            {
                ["impl"] = v2Links ? "dotnet-v2-links" : "dotnet",
                ["scenario"] = "network",
                ["nodes"] = spec.Nodes,
                ["edges"] = spec.Edges.Length,
                ["interval_ms"] = spec.IntervalMs,
                ["phases"] = phases,
            };
        }
        finally
        {
            foreach (ITimer timer in timers)
            {
                timer.Dispose();
            }

            await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
        }
    }

    private static async Task<JsonObject> PhaseAsync(GossipNode[] nodes, string name, int[] publishers, int intervalMs)
    {
        int expected = 0;
        foreach (int p in publishers)
        {
            expected += nodes.Length - 1;
        }

        var times = new long[expected];
        int delivered = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnMessage(object? sender, GossipMessage message)
        {
            if (message.Payload.TryGetProperty("phase", out var phase) && phase.GetString() == name)
            {
                int index = Interlocked.Increment(ref delivered) - 1;
                if (index < times.Length)
                {
                    times[index] = Stopwatch.GetTimestamp();
                }

                if (index == expected - 1)
                {
                    done.TrySetResult();
                }
            }
        }

        foreach (GossipNode node in nodes)
        {
            node.MessageReceived += OnMessage;
        }

        GossipNodeStatistics[] before = [.. nodes.Select(n => n.Statistics)];
        long start = Stopwatch.GetTimestamp();
        for (int k = 0; k < publishers.Length; k++)
        {
            nodes[publishers[k]].PublishJson($"{{\"phase\":\"{name}\",\"k\":{k},\"pad\":\"{Pad}\"}}");
        }

        bool timedOut = false;
        try
        {
            await done.Task.WaitAsync(TimeSpan.FromMinutes(3));
        }
        catch (TimeoutException)
        {
            timedOut = true;
        }

        double elapsed = Stopwatch.GetElapsedTime(start, times.Max()).TotalMilliseconds;
        await Task.Delay(3 * intervalMs); // let in-flight duplicates land before counting
        foreach (GossipNode node in nodes)
        {
            node.MessageReceived -= OnMessage;
        }

        GossipNodeStatistics[] after = [.. nodes.Select(n => n.Statistics)];
        long linesSent = after.Sum(s => s.LinesSent) - before.Sum(s => s.LinesSent);
        long bytesSent = after.Sum(s => s.BytesSent) - before.Sum(s => s.BytesSent);
        long linesReceived = after.Sum(s => s.LinesReceived) - before.Sum(s => s.LinesReceived);
        long verifies = after.Sum(s => s.SignaturesVerified) - before.Sum(s => s.SignaturesVerified);
        int deliveries = Math.Min(delivered, expected);
        return new JsonObject
        {
            ["name"] = name,
            ["elapsed_ms"] = elapsed,
            ["deliveries"] = deliveries,
            ["expected_deliveries"] = expected,
            ["lines_sent"] = linesSent,
            ["bytes_sent"] = bytesSent,
            ["duplicates"] = linesReceived - deliveries,
            ["copies_per_delivery"] = deliveries == 0 ? null : (double)linesSent / deliveries,
            ["verifies_per_delivery"] = deliveries == 0 ? null : (double)verifies / deliveries,
            ["delivery_curve"] = Curve(times.Take(deliveries).Select(t => Stopwatch.GetElapsedTime(start, t).TotalMilliseconds), expected),
            ["timed_out"] = timedOut,
        };
    }

    /// <summary>About 80 points of (ms since start, fraction delivered).</summary>
    internal static JsonArray Curve(IEnumerable<double> deliveryTimes, int expected)
    {
        double[] sorted = [.. deliveryTimes.Order()];
        var curve = new JsonArray { new JsonArray(0.0, 0.0) };
        int step = Math.Max(1, sorted.Length / 80);
        for (int i = step - 1; i < sorted.Length; i += step)
        {
            curve.Add(new JsonArray(Math.Round(sorted[i], 3), (double)(i + 1) / expected));
        }

        if (sorted.Length > 0 && (sorted.Length % step) != 0)
        {
            curve.Add(new JsonArray(Math.Round(sorted[^1], 3), (double)sorted.Length / expected));
        }

        return curve;
    }
}

/// <summary>A network scenario: the same graph and publishers for both implementations.</summary>
internal sealed record NetworkSpec(int Nodes, string Topology, (int, int)[] Edges, int IntervalMs, (string Name, int[] Publishers)[] Phases)
{
    public static NetworkSpec Create(string topology, int nodes, int seed, int intervalMs)
    {
        Topology graph = SecureGossip.Simulation.Topology.Create(topology, nodes, seed);
        var edges = new List<(int, int)>();
        for (int i = 0; i < graph.NodeCount; i++)
        {
            foreach (int j in graph.Neighbours(i))
            {
                if (i < j)
                {
                    edges.Add((i, j));
                }
            }
        }

        var random = new Random(seed);
        return new NetworkSpec(nodes, topology, [.. edges], intervalMs,
        [
            ("one", [random.Next(nodes)]),
            ("hundred", [.. Enumerable.Range(0, 100).Select(_ => random.Next(nodes))]),
        ]);
    }

    public JsonObject ToJson() => new()
    {
        ["nodes"] = Nodes,
        ["edges"] = new JsonArray([.. Edges.Select(e => (JsonNode)new JsonArray(e.Item1, e.Item2))]),
        ["interval_ms"] = IntervalMs,
        ["phases"] = new JsonArray([.. Phases.Select(p => (JsonNode)new JsonObject
        {
            ["name"] = p.Name,
            ["publishers"] = new JsonArray([.. p.Publishers.Select(x => (JsonNode)x)]),
        })]),
    };
}
