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
        var node = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, Protocol = GossipProtocol.V1 });
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
        await using var a = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, Protocol = GossipProtocol.V1 });
        await using var b = new GossipNode(new GossipNodeOptions { Interval = interval, Protocol = GossipProtocol.V1 });
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

    /// <summary>
    /// N nodes on a graph; phases of publishes from chosen nodes; time until every node has every message. With
    /// <paramref name="v2"/> every node announces protocol v2, so every link runs it (Plumtree push along a tree,
    /// lazy announcements, grafts, prunes, frontiers on link up); the phases start once every link has negotiated.
    /// </summary>
    public static async Task<JsonObject> NetworkAsync(NetworkSpec spec, bool v2 = false)
    {
        // Each node's rounds start at a random point of the first interval, as separate processes would (and as
        // bench/js/network.js staggers its peers): nodes created together would otherwise tick in lockstep.
        var nodes = new GossipNode[spec.Nodes];
        var timers = new ITimer[spec.Nodes];
        var random = new Random(spec.Nodes);
        TimeSpan interval = TimeSpan.FromMilliseconds(spec.IntervalMs);
        for (int i = 0; i < nodes.Length; i++)
        {
            GossipNode node = nodes[i] = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, AnnounceV2 = v2 });
            timers[i] = TimeProvider.System.CreateTimer(_ => node.Gossip(), null, interval * random.NextDouble(), interval);
        }

        try
        {
            int[] degree = new int[spec.Nodes];
            foreach ((int x, int y) in spec.Edges)
            {
                (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
                _ = nodes[x].RunConnectionAsync(left);
                _ = nodes[y].RunConnectionAsync(right);
                degree[x]++;
                degree[y]++;
            }

            long setup = Stopwatch.GetTimestamp();
            await WaitUntilLinkedAsync(nodes, degree, v2);
            double setupMs = Stopwatch.GetElapsedTime(setup).TotalMilliseconds;

            var phases = new JsonArray();
            foreach ((string name, int[] publishers) in spec.Phases)
            {
                phases.Add(await PhaseAsync(nodes, name, publishers, spec.IntervalMs));
            }

            // The whole run, from the nodes' creation (v2's hellos and first frontiers included) to the end of the
            // last phase's settling.
            GossipNodeStatistics[] total = [.. nodes.Select(n => n.Statistics)];
            long accepted = total.Sum(s => s.MessagesAccepted);
            long copies = total.Sum(PayloadCopies);
            long bytes = total.Sum(s => s.BytesSent);
            return new JsonObject
            {
                ["impl"] = v2 ? "dotnet-v2" : "dotnet",
                ["scenario"] = "network",
                ["nodes"] = spec.Nodes,
                ["edges"] = spec.Edges.Length,
                ["interval_ms"] = spec.IntervalMs,
                ["setup_ms"] = setupMs,
                ["phases"] = phases,
                ["run_total"] = new JsonObject
                {
                    ["accepted"] = accepted,
                    ["copies_received"] = copies,
                    ["rmr"] = accepted == 0 ? null : (double)copies / accepted - 1,
                    ["lines_sent"] = total.Sum(s => s.LinesSent),
                    ["bytes_sent"] = bytes,
                    ["bytes_per_delivery"] = accepted == 0 ? null : (double)bytes / accepted,
                    ["v2_frames_received"] = total.Sum(s => s.V2FramesReceived),
                },
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

    /// <summary>
    /// Waits until every node has all its links; with v2, until every link speaks v2 and each side has received the
    /// other's hello and first frontier and processed them, so the measured phases see only their own traffic.
    /// </summary>
    private static async Task WaitUntilLinkedAsync(GossipNode[] nodes, int[] degree, bool v2)
    {
        bool Ready(int i)
        {
            IReadOnlyList<GossipPeerInfo> peers = nodes[i].Peers;
            return peers.Count == degree[i] &&
                (!v2 || (peers.All(p => p.Version == 2) && nodes[i].Statistics.V2FramesReceived >= 2 * peers.Count));
        }

        var waited = Stopwatch.StartNew();
        while (!Enumerable.Range(0, nodes.Length).All(Ready))
        {
            if (waited.Elapsed > TimeSpan.FromMinutes(1))
            {
                int late = Enumerable.Range(0, nodes.Length).Count(i => !Ready(i));
                throw new TimeoutException($"{late} of {nodes.Length} nodes not linked{(v2 ? " with v2" : string.Empty)} after {waited.Elapsed.TotalSeconds:F0} s");
            }

            await Task.Delay(5);
        }

        await Task.WhenAll(nodes.Select(n => n.WhenIdleAsync()));
    }

    private static long[] FramesByKind(GossipNode[] nodes)
    {
        long[] sum = new long[SecureGossip.Diagnostics.FrameKinds.Kinds];
        foreach (GossipNode node in nodes)
        {
            IReadOnlyList<long> kinds = node.FramesReceivedByKind;
            for (int kind = 0; kind < sum.Length; kind++)
            {
                sum[kind] += kinds[kind];
            }
        }

        return sum;
    }

    /// <summary>Copies of messages that reached the node from a peer: the new ones, and the duplicates (its own returning included).</summary>
    private static long PayloadCopies(GossipNodeStatistics s) => s.MessagesAccepted + s.DroppedOld + s.DroppedOwn;

    private static async Task<JsonObject> PhaseAsync(GossipNode[] nodes, string name, int[] publishers, int intervalMs)
    {
        int expected = publishers.Length * (nodes.Length - 1);
        var times = new long[expected];
        int delivered = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        TimeSpan cpuAtEnd = TimeSpan.Zero;
        long allocatedAtEnd = 0;
        int gen0AtEnd = 0;
        long workItemsAtEnd = 0;
        TimeSpan jitAtEnd = TimeSpan.Zero;
        TimeSpan pauseAtEnd = TimeSpan.Zero;
        Dictionary<string, double> threadsAtEnd = [];
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
                    cpuAtEnd = Environment.CpuUsage.TotalTime;
                    allocatedAtEnd = GC.GetTotalAllocatedBytes();
                    gen0AtEnd = GC.CollectionCount(0);
                    workItemsAtEnd = ThreadPool.CompletedWorkItemCount;
                    jitAtEnd = System.Runtime.JitInfo.GetCompilationTime();
                    pauseAtEnd = GC.GetTotalPauseDuration();
                    threadsAtEnd = ThreadCpu.Read();
                    done.TrySetResult();
                }
            }
        }

        foreach (GossipNode node in nodes)
        {
            node.MessageReceived += OnMessage;
        }

        GossipNodeStatistics[] before = [.. nodes.Select(n => n.Statistics)];
        long[] kindsBefore = FramesByKind(nodes);
        TimeSpan cpuAtStart = Environment.CpuUsage.TotalTime;
        long allocatedAtStart = GC.GetTotalAllocatedBytes();
        int gen0AtStart = GC.CollectionCount(0);
        long workItemsAtStart = ThreadPool.CompletedWorkItemCount;
        TimeSpan jitAtStart = System.Runtime.JitInfo.GetCompilationTime();
        TimeSpan pauseAtStart = GC.GetTotalPauseDuration();
        Dictionary<string, double> threadsAtStart = ThreadCpu.Read();
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
        if (Environment.GetEnvironmentVariable("SG_BENCH_MARKS") is not null)
        {
            // The phase's window in Stopwatch ticks (CLOCK_MONOTONIC nanoseconds on Linux), to cut a profile taken
            // with `perf record -k mono` to this phase.
            Console.Error.WriteLine($"MARK {name} {start} {times.Max()}");
        }
        (double settleMs, bool quiet) = await SettleAsync(nodes, intervalMs);
        foreach (GossipNode node in nodes)
        {
            node.MessageReceived -= OnMessage;
        }

        GossipNodeStatistics[] after = [.. nodes.Select(n => n.Statistics)];
        long[] kindsAfter = FramesByKind(nodes);
        var framesByKind = new JsonObject();
        for (int kind = 0; kind < kindsAfter.Length; kind++)
        {
            if (kindsAfter[kind] != kindsBefore[kind])
            {
                framesByKind[SecureGossip.Diagnostics.FrameKinds.Names[kind]] = kindsAfter[kind] - kindsBefore[kind];
            }
        }

        long Delta(Func<GossipNodeStatistics, long> counter) => after.Sum(counter) - before.Sum(counter);
        long linesSent = Delta(s => s.LinesSent);
        long bytesSent = Delta(s => s.BytesSent);
        long linesReceived = Delta(s => s.LinesReceived);
        long verifies = Delta(s => s.SignaturesVerified);
        long accepted = Delta(s => s.MessagesAccepted);
        long copies = Delta(PayloadCopies);
        int deliveries = Math.Min(delivered, expected);
        return new JsonObject
        {
            ["name"] = name,
            ["elapsed_ms"] = elapsed,
            // The process's CPU time (all threads) from the first publish to the last delivery, and its share of
            // what the cores could have given in that time: near 1 means the phase was bound by the CPU.
            ["cpu_ms"] = timedOut ? null : (cpuAtEnd - cpuAtStart).TotalMilliseconds,
            ["cpu_share"] = timedOut || elapsed <= 0 ? null : (cpuAtEnd - cpuAtStart).TotalMilliseconds / (elapsed * Environment.ProcessorCount),
            // Bytes the process allocated and gen-0 collections, from the first publish to the last delivery.
            ["allocated_mb"] = timedOut ? null : (allocatedAtEnd - allocatedAtStart) / 1e6,
            ["gen0_collections"] = timedOut ? null : gen0AtEnd - gen0AtStart,
            // Thread-pool work items run in that time: each is a wake of a read loop, write loop, actor or verifier.
            ["work_items"] = timedOut ? null : workItemsAtEnd - workItemsAtStart,
            // Time the JIT spent compiling in that time (all threads): code the phase ran for the first time.
            ["jit_ms"] = timedOut ? null : (jitAtEnd - jitAtStart).TotalMilliseconds,
            // Time every thread was stopped for the collector in that time.
            ["gc_pause_ms"] = timedOut ? null : (pauseAtEnd - pauseAtStart).TotalMilliseconds,
            // CPU by kind of thread in that time (Linux: each thread's run time from /proc; empty elsewhere).
            ["thread_cpu_ms"] = timedOut ? null : ThreadCpu.Delta(threadsAtStart, threadsAtEnd),
            ["deliveries"] = deliveries,
            ["expected_deliveries"] = expected,
            ["lines_sent"] = linesSent,
            ["bytes_sent"] = bytesSent,
            // v1: every line received that was not a new delivery; on v2 links this includes control frames.
            ["duplicates"] = linesReceived - deliveries,
            // Lines written per delivery (on v2 links, every frame counts as a line).
            ["copies_per_delivery"] = deliveries == 0 ? null : (double)linesSent / deliveries,
            ["accepted"] = accepted,
            ["copies_received"] = copies,
            ["rmr"] = accepted == 0 ? null : (double)copies / accepted - 1,
            ["bytes_per_delivery"] = deliveries == 0 ? null : (double)bytesSent / deliveries,
            ["verifies_per_delivery"] = deliveries == 0 ? null : (double)verifies / deliveries,
            ["v2_frames_received"] = Delta(s => s.V2FramesReceived),
            // Lines received by every node, by kind (a v2 frame by its type), including the settling after the phase.
            ["lines_received_by_kind"] = framesByKind,
            ["delivery_curve"] = Curve(times.Take(deliveries).Select(t => Stopwatch.GetElapsedTime(start, t).TotalMilliseconds), expected),
            ["timed_out"] = timedOut,
            ["settle_ms"] = settleMs,
            ["settled_quiet"] = quiet,
        };
    }

    /// <summary>
    /// As bench/js/network.js settles: at least 3 intervals, then until a whole interval passes in which no copy of a
    /// message reaches any node (at most 30 intervals), so in-flight duplicates are counted. v2's periodic frontiers
    /// carry no message and do not count.
    /// </summary>
    private static async Task<(double Ms, bool Quiet)> SettleAsync(GossipNode[] nodes, int intervalMs)
    {
        long start = Stopwatch.GetTimestamp();
        long last = nodes.Sum(n => PayloadCopies(n.Statistics));
        bool quiet = false;
        for (int waited = 1; waited <= 30; waited++)
        {
            await Task.Delay(intervalMs);
            await Task.WhenAll(nodes.Select(n => n.WhenIdleAsync()));
            long now = nodes.Sum(n => PayloadCopies(n.Statistics));
            quiet = now == last;
            last = now;
            if (waited >= 3 && quiet)
            {
                break;
            }
        }

        return (Stopwatch.GetElapsedTime(start).TotalMilliseconds, quiet);
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

    /// <summary>
    /// The warm run, on a fresh network: <paramref name="count"/> warm-up messages from the publishers of the main
    /// phase (its distinct publishers in order of first appearance, cycled), one at a time, each delivered everywhere
    /// before the next is published, then the main phase. One at a time, because that is what lets v2's trees settle:
    /// after a burst of 20 over links that are all still eager, the 100 on a 10-node 4-regular graph still drew
    /// 1.4–1.9 redundant copies per delivery; after 20 one at a time, none.
    /// </summary>
    public NetworkSpec WithWarmUp(string mainPhase, int count)
    {
        int[] main = Phases.First(p => p.Name == mainPhase).Publishers;
        int[] distinct = [.. main.Distinct()];
        return this with
        {
            Phases = [.. Enumerable.Range(0, count).Select(i => ($"warmup-{i}", new[] { distinct[i % distinct.Length] })), (mainPhase, main)],
        };
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
