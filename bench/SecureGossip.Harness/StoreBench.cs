using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SecureGossip.Storage;
using SecureGossip.Transports;

namespace SecureGossip.Harness;

/// <summary>
/// What durable delivery costs (issue 8, "group commit: ... say what it costs"): the same receive, publish and CLI
/// workloads without a store, with a store in <c>synchronous=NORMAL</c> and in <c>synchronous=FULL</c>, one
/// configuration after another inside each repetition (rotated, so no configuration always runs first or last), and
/// every figure reported as the median and range over the repetitions. Ratios are taken within a repetition, so both
/// sides of a ratio saw the same noise of this shared machine.
/// </summary>
internal static class StoreBench
{
    private const string Pad = "0123456789abcdef0123456789abcdef";

    private enum Durability
    {
        None,
        Normal,
        Full,
    }

    private sealed record Config(string Label, GossipProtocol Protocol, Durability Store);

    private static readonly Config[] IngestConfigs =
    [
        new("v1, no store", GossipProtocol.V1, Durability.None),
        new("v2, no store", GossipProtocol.V2, Durability.None),
        new("v2 + store NORMAL", GossipProtocol.V2, Durability.Normal),
        new("v2 + store FULL", GossipProtocol.V2, Durability.Full),
    ];

    private static readonly Durability[] StoreModes = [Durability.None, Durability.Normal, Durability.Full];

    public static async Task<int> RunAsync(string outDir, bool quick, int repetitions)
    {
        int burst = quick ? 2000 : 20000;
        int paced = quick ? 200 : 1000;
        const int PacedRate = 500;
        int publishes = quick ? 500 : 2000;
        TimeSpan publishCap = TimeSpan.FromSeconds(quick ? 2 : 5);
        int cliMessages = 2000;
        string dir = Directory.CreateTempSubdirectory("sgossip-store-bench-").FullName;
        var report = new StringBuilder();
        void Line(string text = "")
        {
            Console.WriteLine(text);
            report.AppendLine(text);
        }

        var total = Stopwatch.StartNew();
        try
        {
            Line($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.ProcessArchitecture}, {RuntimeInformation.OSDescription}; .NET {Environment.Version}; load average at start {LoadAverage()}");
            double[] fsyncs = FsyncProbe(dir, 200);
            Line($"store directory: {dir} ({FileSystemOf(dir)}); a 4 KiB write + fsync there: median {Median(fsyncs):F2} ms, p99 {Percentile(fsyncs, 0.99):F2} ms (200 tries)");
            Line($"repetitions: {repetitions}{(quick ? ", quick" : string.Empty)}; each cell is the median over them, with the range (min–max) in brackets");
            Line();

            // Warm-up: each configuration once, small, so no measured run pays for the JIT.
            foreach (Config config in IngestConfigs)
            {
                await IngestAsync(config, 1000, 0, PacedRate, dir);
            }

            foreach (Durability mode in StoreModes)
            {
                await PublishAsync(mode, 200, publishCap, dir);
            }

            byte[][] signed = Scenarios.SignedLines(burst);
            foreach (Config config in IngestConfigs)
            {
                await ReceiverOnlyAsync(config, signed[..1000], dir);
            }

            var ingest = new Dictionary<Config, List<JsonObject>>();
            var receiverOnly = new Dictionary<Config, List<JsonObject>>();
            var publish = new Dictionary<Durability, List<JsonObject>>();
            var cli = new Dictionary<Durability, List<JsonObject>>();
            for (int rep = 0; rep < repetitions; rep++)
            {
                foreach (Config config in Rotate(IngestConfigs, rep))
                {
                    JsonObject run = await IngestAsync(config, burst, paced, PacedRate, dir);
                    run["repetition"] = rep;
                    Add(ingest, config, run);
                    Console.Error.WriteLine($"  ingest rep {rep} {config.Label}: {Num(run, "msgs_per_s"):N0} msgs/s");
                }

                foreach (Config config in Rotate(IngestConfigs, rep))
                {
                    JsonObject run = await ReceiverOnlyAsync(config, signed, dir);
                    run["repetition"] = rep;
                    Add(receiverOnly, config, run);
                    Console.Error.WriteLine($"  receiver-only rep {rep} {config.Label}: {Num(run, "msgs_per_s"):N0} msgs/s");
                }

                foreach (Durability mode in Rotate(StoreModes, rep))
                {
                    JsonObject run = await PublishAsync(mode, publishes, publishCap, dir);
                    run["repetition"] = rep;
                    Add(publish, mode, run);
                    Console.Error.WriteLine($"  publish rep {rep} {mode}: {Num(run, "publishes_per_s"):N0}/s");
                }

                foreach (Durability mode in Rotate(StoreModes, rep))
                {
                    JsonObject run = await CliAsync(mode, cliMessages, dir);
                    run["repetition"] = rep;
                    Add(cli, mode, run);
                    Console.Error.WriteLine($"  cli rep {rep} {mode}: {Num(run, "wall_ms"):N0} ms");
                }
            }

            WriteIngest(Line, ingest, burst, paced, PacedRate);
            WriteReceiverOnly(Line, receiverOnly, burst);
            WritePublish(Line, publish, publishes, publishCap);
            WriteCli(Line, cli, cliMessages);
            Line($"load average at end {LoadAverage()}; whole measurement {total.Elapsed.TotalSeconds:F0} s");

            var results = new JsonObject
            {
                ["cores"] = Environment.ProcessorCount,
                ["dotnet"] = Environment.Version.ToString(),
                ["repetitions"] = repetitions,
                ["fsync_ms_median"] = Median(fsyncs),
                ["ingest"] = new JsonArray([.. ingest.Values.SelectMany(r => r)]),
                ["receiver_only"] = new JsonArray([.. receiverOnly.Values.SelectMany(r => r)]),
                ["publish"] = new JsonArray([.. publish.Values.SelectMany(r => r)]),
                ["cli"] = new JsonArray([.. cli.Values.SelectMany(r => r)]),
                ["elapsed_s"] = total.Elapsed.TotalSeconds,
            };
            Directory.CreateDirectory(outDir);
            await File.WriteAllTextAsync(Path.Combine(outDir, "results.json"), results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            await File.WriteAllTextAsync(Path.Combine(outDir, "report.md"), report.ToString());
            Console.WriteLine($"results: {Path.GetRelativePath(JsRunner.RepoRoot, Path.Combine(outDir, "results.json"))}, report.md beside it");
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Two nodes in one process over an in-memory link, both of <paramref name="config"/>'s protocol with default
    /// options; only the receiver has the store. The sender publishes <paramref name="burst"/> messages back to back
    /// (throughput, and latency with the queueing a burst causes), then <paramref name="paced"/> at
    /// <paramref name="pacedRate"/> per second (latency at a rate the link keeps up with). Latency is from the
    /// sender's PublishJson call to the receiver's MessageReceived, so it includes v1's wait for the next round
    /// (default interval 100 ms) and the store's group commit.
    /// </summary>
    private static async Task<JsonObject> IngestAsync(Config config, int burst, int paced, int pacedRate, string dir)
    {
        string? path = config.Store == Durability.None ? null : Path.Combine(dir, $"ingest-{Guid.NewGuid():N}.db");
        TimedStore? store = path is null ? null : new TimedStore(new SqliteGossipStore(path, new SqliteGossipStoreOptions { FullSync = config.Store == Durability.Full }));
        byte[][] payloads = [.. Enumerable.Range(0, burst + paced).Select(i => Encoding.UTF8.GetBytes($"{{\"i\":{i},\"pad\":\"{Pad}\"}}"))];
        var sender = new GossipNode(new GossipNodeOptions { Protocol = config.Protocol, StatusInterval = Timeout.InfiniteTimeSpan });
        var receiver = new GossipNode(new GossipNodeOptions { Protocol = config.Protocol, Store = store, OwnsStore = true, StatusInterval = Timeout.InfiniteTimeSpan });
        try
        {
            (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
            _ = sender.RunConnectionAsync(left);
            _ = receiver.RunConnectionAsync(right);
            await WaitUntilLinkedAsync(sender, receiver, config.Protocol);

            long[] publishedAt = new long[burst + paced];
            long[] deliveredAt = new long[burst + paced];
            int burstDelivered = 0, pacedDelivered = 0;
            var burstDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var pacedDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (paced == 0)
            {
                pacedDone.SetResult();
            }

            receiver.MessageReceived += (_, message) =>
            {
                long now = Stopwatch.GetTimestamp();
                int i = IndexOf(message.PayloadUtf8.Span);
                deliveredAt[i] = now;
                if (i < burst)
                {
                    if (Interlocked.Increment(ref burstDelivered) == burst)
                    {
                        burstDone.TrySetResult();
                    }
                }
                else if (Interlocked.Increment(ref pacedDelivered) == paced)
                {
                    pacedDone.TrySetResult();
                }
            };

            // Burst.
            int flushesBefore = store?.Flushes.Count ?? 0;
            GossipNodeStatistics before = receiver.Statistics;
            TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            int gcBefore = GC.CollectionCount(0);
            for (int i = 0; i < burst; i++)
            {
                publishedAt[i] = Stopwatch.GetTimestamp();
                sender.PublishJson(payloads[i]);
            }

            await burstDone.Task.WaitAsync(TimeSpan.FromSeconds(120));
            TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            int gcs = GC.CollectionCount(0) - gcBefore;
            await receiver.WhenIdleAsync();
            GossipNodeStatistics afterBurst = receiver.Statistics;
            (int Messages, double Ms)[] burstFlushes = store is null ? [] : [.. store.Flushes.Skip(flushesBefore)];
            double burstMs = Stopwatch.GetElapsedTime(publishedAt[0], deliveredAt[..burst].Max()).TotalMilliseconds;
            double[] burstLatency = Latencies(publishedAt, deliveredAt, 0, burst);

            // Paced.
            int pacedFlushesBefore = store?.Flushes.Count ?? 0;
            var pace = Stopwatch.StartNew();
            for (int k = 0; k < paced; k++)
            {
                double wait = k * 1000.0 / pacedRate - pace.Elapsed.TotalMilliseconds;
                if (wait > 1)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(wait));
                }

                publishedAt[burst + k] = Stopwatch.GetTimestamp();
                sender.PublishJson(payloads[burst + k]);
            }

            await pacedDone.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await receiver.WhenIdleAsync();
            double[] pacedLatency = Latencies(publishedAt, deliveredAt, burst, paced);
            (int Messages, double Ms)[] pacedFlushes = store is null ? [] : [.. store.Flushes.Skip(pacedFlushesBefore)];
            long accepted = afterBurst.MessagesAccepted - before.MessagesAccepted;
            long commits = afterBurst.StoreCommits - before.StoreCommits;
            double[] flushMs = [.. burstFlushes.Select(f => f.Ms).Order()];
            return new JsonObject
            {
                ["scenario"] = "store-ingest",
                ["config"] = config.Label,
                ["messages"] = burst,
                ["burst_ms"] = burstMs,
                ["msgs_per_s"] = burst / (burstMs / 1000),
                ["cpu_us_per_msg"] = cpu.TotalMicroseconds / burst,
                ["gc0_count"] = gcs,
                ["burst_latency_p50_ms"] = Percentile(burstLatency, 0.50),
                ["burst_latency_p99_ms"] = Percentile(burstLatency, 0.99),
                ["paced_messages"] = paced,
                ["paced_rate"] = pacedRate,
                ["paced_latency_p50_ms"] = paced == 0 ? null : Percentile(pacedLatency, 0.50),
                ["paced_latency_p99_ms"] = paced == 0 ? null : Percentile(pacedLatency, 0.99),
                ["accepted"] = accepted,
                ["store_commits"] = commits,
                ["msgs_per_commit"] = commits == 0 ? null : (double)accepted / commits,
                ["store_lag_ms_last"] = afterBurst.StoreLagMilliseconds,
                ["commit_ms_p50"] = flushMs.Length == 0 ? null : Percentile(flushMs, 0.50),
                ["commit_ms_p99"] = flushMs.Length == 0 ? null : Percentile(flushMs, 0.99),
                ["commit_ms_max"] = flushMs.Length == 0 ? null : flushMs[^1],
                ["commit_ms_total"] = flushMs.Sum(),
                ["largest_commit"] = burstFlushes.Length == 0 ? null : burstFlushes.Max(f => f.Messages),
                ["paced_store_commits"] = pacedFlushes.Length,
                ["paced_commit_ms_p50"] = pacedFlushes.Length == 0 ? null : Percentile([.. pacedFlushes.Select(f => f.Ms).Order()], 0.50),
            };
        }
        finally
        {
            await sender.DisposeAsync();
            await receiver.DisposeAsync();
            DeleteStore(path);
        }
    }

    /// <summary>
    /// The receiver alone: <paramref name="lines"/>, signed beforehand by one author, written as fast as an in-memory
    /// link takes them into a node of <paramref name="config"/> (the harness plays a peer that never says hello, so a
    /// v2 node treats it as a v1 peer: same verification, acceptance by id and group commit, no sender competing for
    /// the cores). Timed from the first write to the last delivery; what the node writes back is read and dropped.
    /// </summary>
    private static async Task<JsonObject> ReceiverOnlyAsync(Config config, byte[][] lines, string dir)
    {
        string? path = config.Store == Durability.None ? null : Path.Combine(dir, $"raw-{Guid.NewGuid():N}.db");
        TimedStore? store = path is null ? null : new TimedStore(new SqliteGossipStore(path, new SqliteGossipStoreOptions { FullSync = config.Store == Durability.Full }));
        byte[] payload = [.. lines.SelectMany(l => l.Append((byte)'\n'))];
        var receiver = new GossipNode(new GossipNodeOptions { Protocol = config.Protocol, Store = store, OwnsStore = true, StatusInterval = Timeout.InfiniteTimeSpan });
        (GossipConnection peer, GossipConnection right) = InMemoryTransport.CreatePair();
        using var stop = new CancellationTokenSource();
        Task draining = DrainAsync(peer.Input, stop.Token);
        try
        {
            _ = receiver.RunConnectionAsync(right);
            int delivered = 0;
            long last = 0;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            receiver.MessageReceived += (_, _) =>
            {
                if (Interlocked.Increment(ref delivered) == lines.Length)
                {
                    last = Stopwatch.GetTimestamp();
                    done.TrySetResult();
                }
            };

            GossipNodeStatistics before = receiver.Statistics;
            TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            long start = Stopwatch.GetTimestamp();
            for (int offset = 0; offset < payload.Length; offset += 1 << 16)
            {
                await peer.Output.WriteAsync(payload.AsMemory(offset, Math.Min(1 << 16, payload.Length - offset)));
            }

            await done.Task.WaitAsync(TimeSpan.FromSeconds(120));
            TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
            await receiver.WhenIdleAsync();
            GossipNodeStatistics after = receiver.Statistics;
            double ms = Stopwatch.GetElapsedTime(start, last).TotalMilliseconds;
            long commits = after.StoreCommits - before.StoreCommits;
            double[] flushMs = store is null ? [] : [.. store.Flushes.Select(f => f.Ms).Order()];
            return new JsonObject
            {
                ["scenario"] = "store-receiver-only",
                ["config"] = config.Label,
                ["messages"] = lines.Length,
                ["elapsed_ms"] = ms,
                ["msgs_per_s"] = lines.Length / (ms / 1000),
                ["cpu_us_per_msg"] = cpu.TotalMicroseconds / lines.Length,
                ["store_commits"] = commits,
                ["msgs_per_commit"] = commits == 0 ? null : (double)(after.MessagesAccepted - before.MessagesAccepted) / commits,
                ["commit_ms_p50"] = flushMs.Length == 0 ? null : Percentile(flushMs, 0.50),
                ["commit_ms_p99"] = flushMs.Length == 0 ? null : Percentile(flushMs, 0.99),
                ["commit_ms_total"] = flushMs.Sum(),
            };
        }
        finally
        {
            await receiver.DisposeAsync();
            await stop.CancelAsync();
            await draining;
            await peer.DisposeAsync();
            DeleteStore(path);
        }
    }

    private static async Task DrainAsync(System.IO.Pipelines.PipeReader input, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                System.IO.Pipelines.ReadResult result = await input.ReadAsync(cancellationToken);
                input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
        {
        }
    }

    /// <summary>
    /// One node with no peer publishes back to back: with a store each message's record joins the node's next group
    /// commit and its line leaves only after it, so a seq that left is never reused after a crash.
    /// </summary>
    private static async Task<JsonObject> PublishAsync(Durability mode, int count, TimeSpan cap, string dir)
    {
        string? path = mode == Durability.None ? null : Path.Combine(dir, $"publish-{Guid.NewGuid():N}.db");
        TimedStore? store = path is null ? null : new TimedStore(new SqliteGossipStore(path, new SqliteGossipStoreOptions { FullSync = mode == Durability.Full }));
        byte[][] payloads = [.. Enumerable.Range(0, count).Select(i => Encoding.UTF8.GetBytes($"{{\"i\":{i},\"pad\":\"{Pad}\"}}"))];
        var node = new GossipNode(new GossipNodeOptions { Store = store, OwnsStore = true, StatusInterval = Timeout.InfiniteTimeSpan });
        try
        {
            double[] each = new double[count];
            int done = 0;
            var clock = Stopwatch.StartNew();
            while (done < count && clock.Elapsed < cap)
            {
                long start = Stopwatch.GetTimestamp();
                node.PublishJson(payloads[done]);
                each[done++] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }

            double elapsed = clock.Elapsed.TotalMilliseconds;
            double[] sorted = [.. each.Take(done).Order()];
            double[] commits = store is null ? [] : [.. store.DurableAdds.Order()];
            return new JsonObject
            {
                ["scenario"] = "store-publish",
                ["store"] = mode.ToString(),
                ["published"] = done,
                ["elapsed_ms"] = elapsed,
                ["publishes_per_s"] = done / (elapsed / 1000),
                ["publish_ms_p50"] = Percentile(sorted, 0.50),
                ["publish_ms_p99"] = Percentile(sorted, 0.99),
                ["commit_ms_p50"] = commits.Length == 0 ? null : Percentile(commits, 0.50),
            };
        }
        finally
        {
            await node.DisposeAsync();
            DeleteStore(path);
        }
    }

    /// <summary>
    /// Two sgossip node processes over loopback TCP: the sender gets <paramref name="count"/> lines on stdin in one
    /// write once the v2 link is up; timed from that write until the receiver has printed every message.
    /// </summary>
    private static async Task<JsonObject> CliAsync(Durability mode, int count, string dir)
    {
        string? path = mode == Durability.None ? null : Path.Combine(dir, $"cli-{Guid.NewGuid():N}.db");
        List<string> receiverArgs = ["node", "--listen", "127.0.0.1:0"];
        if (path is not null)
        {
            receiverArgs.AddRange(["--store", path]);
        }

        if (mode == Durability.Full)
        {
            receiverArgs.AddRange(["--store-sync", "full"]);
        }

        try
        {
            await using CliProcess receiver = CliProcess.Start(receiverArgs);
            int port = await receiver.WaitForPortAsync(TimeSpan.FromSeconds(60));
            await using CliProcess sender = CliProcess.Start(["node", "--connect", $"127.0.0.1:{port}"]);
            await sender.WaitForStderrAsync("up (protocol v2)", TimeSpan.FromSeconds(60));
            string input = string.Concat(Enumerable.Range(0, count).Select(i => $"{{\"i\":{i},\"pad\":\"{Pad}\"}}\n"));
            Task<(long Last, int Count)> counting = receiver.CountStdoutLinesAsync(count, TimeSpan.FromSeconds(120));
            long start = Stopwatch.GetTimestamp();
            await sender.WriteAsync(input);
            (long last, int received) = await counting;
            if (received < count)
            {
                throw new TimeoutException($"sgossip node ({mode}) printed {received} of {count} messages in 120 s; stderr: {receiver.StandardError}");
            }

            double wallMs = Stopwatch.GetElapsedTime(start, last).TotalMilliseconds;
            return new JsonObject
            {
                ["scenario"] = "store-cli",
                ["store"] = mode.ToString(),
                ["messages"] = count,
                ["received"] = received,
                ["wall_ms"] = wallMs,
                ["msgs_per_s"] = count / (wallMs / 1000),
            };
        }
        finally
        {
            DeleteStore(path);
        }
    }

    private static async Task WaitUntilLinkedAsync(GossipNode a, GossipNode b, GossipProtocol protocol)
    {
        bool Ready(GossipNode node) => node.Peers is [GossipPeerInfo peer] && (protocol == GossipProtocol.V1 || peer.Version == 2);
        var waited = Stopwatch.StartNew();
        while (!Ready(a) || !Ready(b))
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"the two nodes did not link ({protocol}) within 30 s");
            }

            await Task.Delay(5);
        }

        await Task.WhenAll(a.WhenIdleAsync(), b.WhenIdleAsync());
    }

    private static void WriteIngest(Action<string> line, Dictionary<Config, List<JsonObject>> runs, int burst, int paced, int pacedRate)
    {
        Config baseline = IngestConfigs[1];
        line($"## Durable delivery: ingest of {burst:N0} messages from one peer (2 nodes in one process, in-memory link, default options)");
        line(string.Empty);
        line($"Burst: the sender publishes {burst:N0} messages back to back; msgs/s = messages / (first publish → last delivery). Latency = the sender's publish → the receiver's MessageReceived (burst: includes the queue the burst builds; paced: {paced:N0} messages at {pacedRate}/s). Ratio: this row's msgs/s / v2-no-store msgs/s in the same repetition. Commit = one IGossipStore.Flush (the group commit) during the burst.");
        line(string.Empty);
        line("| configuration | msgs/s | ratio to v2 no store | burst latency p50 ms | burst p99 ms | paced latency p50 ms | paced p99 ms | msgs per commit | StoreCommits | commit ms p50 | commit ms p99 | StoreLagMilliseconds (last) | process CPU µs/msg (both nodes) |");
        line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (Config config in IngestConfigs)
        {
            List<JsonObject> mine = runs[config];
            double[] ratios = [.. mine.Select(r => Num(r, "msgs_per_s") / Num(runs[baseline].First(b => Num(b, "repetition") == Num(r, "repetition")), "msgs_per_s"))];
            bool stored = config.Store != Durability.None;
            line($"| {config.Label} | {Cell(mine, "msgs_per_s", "N0")} | {Cell(ratios, "F2")}× | {Cell(mine, "burst_latency_p50_ms", "F0")} | {Cell(mine, "burst_latency_p99_ms", "F0")} | {Cell(mine, "paced_latency_p50_ms", "F2")} | {Cell(mine, "paced_latency_p99_ms", "F2")} | {(stored ? Cell(mine, "msgs_per_commit", "F1") : "-")} | {(stored ? Cell(mine, "store_commits", "N0") : "-")} | {(stored ? Cell(mine, "commit_ms_p50", "F2") : "-")} | {(stored ? Cell(mine, "commit_ms_p99", "F2") : "-")} | {(stored ? Cell(mine, "store_lag_ms_last", "F2") : "-")} | {Cell(mine, "cpu_us_per_msg", "F0")} |");
        }

        line(string.Empty);
    }

    private static void WriteReceiverOnly(Action<string> line, Dictionary<Config, List<JsonObject>> runs, int count)
    {
        Config baseline = IngestConfigs[1];
        line($"## Durable delivery: the receiver alone, {count:N0} lines signed beforehand written into it as fast as an in-memory link takes them");
        line(string.Empty);
        line("No sender in the process (the harness plays a peer that never says hello: a v2 node treats it as a v1 peer, with the same verification, acceptance by id and group commit). msgs/s = messages / (first write → last delivery). Ratio as above.");
        line(string.Empty);
        line("| configuration | msgs/s | ratio to v2 no store | msgs per commit | StoreCommits | commit ms p50 | commit ms p99 | process CPU µs/msg |");
        line("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (Config config in IngestConfigs)
        {
            List<JsonObject> mine = runs[config];
            double[] ratios = [.. mine.Select(r => Num(r, "msgs_per_s") / Num(runs[baseline].First(b => Num(b, "repetition") == Num(r, "repetition")), "msgs_per_s"))];
            bool stored = config.Store != Durability.None;
            line($"| {config.Label} | {Cell(mine, "msgs_per_s", "N0")} | {Cell(ratios, "F2")}× | {(stored ? Cell(mine, "msgs_per_commit", "F1") : "-")} | {(stored ? Cell(mine, "store_commits", "N0") : "-")} | {(stored ? Cell(mine, "commit_ms_p50", "F2") : "-")} | {(stored ? Cell(mine, "commit_ms_p99", "F2") : "-")} | {Cell(mine, "cpu_us_per_msg", "F0")} |");
        }

        line(string.Empty);
    }

    private static void WritePublish(Action<string> line, Dictionary<Durability, List<JsonObject>> runs, int count, TimeSpan cap)
    {
        line($"## Durable publish: one node (v2, no peer) publishes up to {count:N0} messages back to back (at most {cap.TotalSeconds:F0} s)");
        line(string.Empty);
        line("With a store a publish returns once its message is queued; the node's actor adds its record to the next group commit and sends the line only after that commit (issue #9; before, each publish committed alone before it returned). Ratio: this row's publishes/s / no-store publishes/s in the same repetition.");
        line(string.Empty);
        line("| store | publishes/s | ratio to no store | publish ms p50 | publish ms p99 | store commit ms p50 |");
        line("|---|---:|---:|---:|---:|---:|");
        foreach (Durability mode in StoreModes)
        {
            List<JsonObject> mine = runs[mode];
            double[] ratios = [.. mine.Select(r => Num(r, "publishes_per_s") / Num(runs[Durability.None].First(b => Num(b, "repetition") == Num(r, "repetition")), "publishes_per_s"))];
            line($"| {Label(mode)} | {Cell(mine, "publishes_per_s", "N0")} | {Cell(ratios, "F2")}× | {Cell(mine, "publish_ms_p50", "F3")} | {Cell(mine, "publish_ms_p99", "F3")} | {(mode == Durability.None ? "-" : Cell(mine, "commit_ms_p50", "F3"))} |");
        }

        line(string.Empty);
    }

    private static void WriteCli(Action<string> line, Dictionary<Durability, List<JsonObject>> runs, int count)
    {
        line($"## Durable delivery through the CLI: sgossip node --connect gets {count:N0} lines on stdin in one write; time until sgossip node --listen has printed all {count:N0}");
        line(string.Empty);
        line("Two processes over loopback TCP, v2 link up before the write. Ratio: this row's wall time / the no-store wall time in the same repetition.");
        line(string.Empty);
        line("| receiver | wall ms | ratio to no store | msgs/s |");
        line("|---|---:|---:|---:|");
        foreach (Durability mode in StoreModes)
        {
            List<JsonObject> mine = runs[mode];
            double[] ratios = [.. mine.Select(r => Num(r, "wall_ms") / Num(runs[Durability.None].First(b => Num(b, "repetition") == Num(r, "repetition")), "wall_ms"))];
            string receiver = mode switch
            {
                Durability.None => "no store",
                Durability.Normal => "--store F",
                _ => "--store F --store-sync full",
            };
            line($"| {receiver} | {Cell(mine, "wall_ms", "N0")} | {Cell(ratios, "F2")}× | {Cell(mine, "msgs_per_s", "N0")} |");
        }

        line(string.Empty);
    }

    private static string Label(Durability mode) => mode switch
    {
        Durability.None => "none",
        Durability.Normal => "NORMAL",
        _ => "FULL",
    };

    /// <summary>Where the payload's <c>"i":</c> number is (the payloads are <c>{"i":N,"pad":…}</c>, kept in order).</summary>
    private static int IndexOf(ReadOnlySpan<byte> payload)
    {
        int at = payload.IndexOf("\"i\":"u8);
        Utf8Parser.TryParse(payload[(at + 4)..], out int i, out _);
        return i;
    }

    private static double[] Latencies(long[] publishedAt, long[] deliveredAt, int from, int count) =>
        [.. Enumerable.Range(from, count).Select(i => Stopwatch.GetElapsedTime(publishedAt[i], deliveredAt[i]).TotalMilliseconds).Order()];

    /// <summary>Times a 4 KiB write plus fsync, the floor of a FULL commit on this disk.</summary>
    private static double[] FsyncProbe(string dir, int tries)
    {
        string path = Path.Combine(dir, "fsync-probe");
        byte[] block = new byte[4096];
        double[] times = new double[tries];
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
        {
            for (int i = 0; i < tries; i++)
            {
                long start = Stopwatch.GetTimestamp();
                file.Write(block);
                file.Flush(flushToDisk: true);
                times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }

        File.Delete(path);
        Array.Sort(times);
        return times;
    }

    private static string FileSystemOf(string dir)
    {
        try
        {
            string full = Path.GetFullPath(dir);
            (string Mount, string Type) best = ("/", "?");
            foreach (string mount in File.ReadAllLines("/proc/mounts"))
            {
                string[] parts = mount.Split(' ');
                if (parts.Length > 2 && full.StartsWith(parts[1], StringComparison.Ordinal) && parts[1].Length >= best.Mount.Length)
                {
                    best = (parts[1], $"{parts[2]} on {parts[0]}");
                }
            }

            return best.Type;
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static void DeleteStore(string? path)
    {
        if (path is null)
        {
            return;
        }

        foreach (string file in new[] { path, path + "-wal", path + "-shm" })
        {
            File.Delete(file);
        }
    }

    private static IEnumerable<T> Rotate<T>(T[] items, int by) => items.Skip(by % items.Length).Concat(items.Take(by % items.Length));

    private static void Add<TKey>(Dictionary<TKey, List<JsonObject>> runs, TKey key, JsonObject run)
        where TKey : notnull
    {
        if (!runs.TryGetValue(key, out List<JsonObject>? list))
        {
            runs[key] = list = [];
        }

        list.Add(run);
    }

    private static string Cell(List<JsonObject> runs, string key, string format) =>
        Cell([.. runs.Where(r => r[key] is not null).Select(r => Num(r, key))], format);

    private static string Cell(double[] values, string format)
    {
        if (values.Length == 0)
        {
            return "-";
        }

        double[] sorted = [.. values.Order()];
        string F(double v) => v.ToString(format, CultureInfo.InvariantCulture);
        return sorted.Length == 1 ? F(sorted[0]) : $"{F(Median(sorted))} ({F(sorted[0])}–{F(sorted[^1])})";
    }

    private static double Num(JsonObject o, string key) => double.Parse(o[key]!.ToJsonString(), CultureInfo.InvariantCulture);

    private static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1))];
}
