using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SecureGossip.Crypto;
using SecureGossip.Transports;

namespace SecureGossip.Harness;

/// <summary>
/// <c>--only secure</c>: what a private network's secured link (secret handshake and box-stream) costs against a
/// plain one, over loopback TCP in one process: (1) bulk bytes through one connection, (2) two v2 nodes, one
/// publishing N messages to the other. Runs alternate plain and secured, several rounds, and report medians.
/// </summary>
internal static class SecuredLinkBench
{
    public static async Task<int> RunAsync(string outDir, bool quick)
    {
        int rounds = quick ? 2 : 5;
        // At most one author's retention (Retention.MaxPerAuthor, 1,000): a longer burst from one author to a link that
        // joins its tree late loses what was evicted before it was asked for (a known limit, see BENCHMARKS.md).
        int messages = quick ? 500 : 1_000;
        int megabytes = quick ? 16 : 64;
        var results = new JsonArray();
        var bytes = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        var wsBytes = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        var gossip = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        var handshakes = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            foreach (bool secured in new[] { false, true })
            {
                (double mbPerS, double handshakeMs) = await BulkAsync(secured, megabytes, webSocket: false);
                bytes[secured].Add(mbPerS);
                (double wsMbPerS, _) = await BulkAsync(secured, megabytes, webSocket: true);
                wsBytes[secured].Add(wsMbPerS);
                if (secured)
                {
                    handshakes.Add(handshakeMs);
                }

                double msgsPerS = await GossipAsync(secured, messages);
                gossip[secured].Add(msgsPerS);
                results.Add(new JsonObject { ["round"] = round, ["secured"] = secured, ["bulk_mb_per_s"] = mbPerS, ["websocket_bulk_mb_per_s"] = wsMbPerS, ["handshake_ms"] = secured ? handshakeMs : null, ["gossip_msgs_per_s"] = msgsPerS });
            }
        }

        static double Median(List<double> values)
        {
            values.Sort();
            return values[values.Count / 2];
        }

        var report = new StringBuilder();
        report.AppendLine($"## Secured against plain links (loopback TCP, one process, {rounds} rounds alternating, medians)");
        report.AppendLine();
        report.AppendLine("| link | bulk MB/s through one TCP connection | bulk MB/s through one WebSocket | gossip msgs/s (2 v2 nodes over TCP, " + messages.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + " messages) |");
        report.AppendLine("|---|---:|---:|---:|");
        report.AppendLine($"| plain | {Median(bytes[false]):N0} | {Median(wsBytes[false]):N0} | {Median(gossip[false]):N0} |");
        report.AppendLine($"| secret handshake + box-stream | {Median(bytes[true]):N0} | {Median(wsBytes[true]):N0} | {Median(gossip[true]):N0} |");
        report.AppendLine($"| secured ÷ plain | {Median(bytes[true]) / Median(bytes[false]):F2} | {Median(wsBytes[true]) / Median(wsBytes[false]):F2} | {Median(gossip[true]) / Median(gossip[false]):F2} |");
        report.AppendLine();
        report.AppendLine($"Handshake, connect to secured link (median): {Median(handshakes):F1} ms.");
        Console.WriteLine(report.ToString());
        await File.WriteAllTextAsync(Path.Combine(outDir, "results.json"), results.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        await File.WriteAllTextAsync(Path.Combine(outDir, "report.md"), report.ToString());
        return 0;
    }

    /// <summary>Writes <paramref name="megabytes"/> MB through one connection and times it until the reader has them all.</summary>
    private static async Task<(double MbPerS, double HandshakeMs)> BulkAsync(bool secured, int megabytes, bool webSocket)
    {
        using GossipKeys serverKeys = GossipKeys.Generate(), clientKeys = GossipKeys.Generate();
        byte[] network = RandomNumberGenerator.GetBytes(32);
        var accepted = new TaskCompletionSource<GossipConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = new CancellationTokenSource();
        await using TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        await using WebSocketGossipListener? wsListener = webSocket ? await WebSocketGossipListener.StartAsync(new Uri("ws://127.0.0.1:0/bench"), new Acceptor(accepted)) : null;
        Task serving = webSocket ? Task.CompletedTask : listener.ServeAsync(new Acceptor(accepted), cancellationToken: stop.Token);
        long started = Stopwatch.GetTimestamp();
        GossipConnection dialled = await TcpGossipClient.ConnectAsync(wsListener is null ? listener.LocalEndPoint : new WebSocketEndPoint(wsListener.Address));
        GossipConnection server = await accepted.Task;
        GossipConnection client = dialled;
        if (secured)
        {
            GossipConnectionMiddleware serverSide = SecretHandshakeMiddleware.Create(serverKeys, new PrivateNetworkOptions { NetworkKeys = [network] });
            GossipConnectionMiddleware clientSide = SecretHandshakeMiddleware.Create(clientKeys, new PrivateNetworkOptions { NetworkKeys = [network] });
            var outbound = new StreamConnectionWithKey(dialled, serverKeys.PublicKey.ToArray());
            ValueTask<GossipConnection> s = serverSide(server, CancellationToken.None);
            client = await clientSide(outbound, CancellationToken.None);
            server = await s;
        }

        double handshakeMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        byte[] chunk = new byte[64 * 1024];
        RandomNumberGenerator.Fill(chunk);
        long total = (long)megabytes * 1024 * 1024;
        long start = Stopwatch.GetTimestamp();
        Task reading = Task.Run(async () =>
        {
            long read = 0;
            while (read < total)
            {
                var result = await server.Input.ReadAsync();
                read += result.Buffer.Length;
                server.Input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        });
        for (long sent = 0; sent < total; sent += chunk.Length)
        {
            await client.Output.WriteAsync(chunk);
        }

        await reading;
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        await client.DisposeAsync();
        await server.DisposeAsync();
        await stop.CancelAsync();
        await serving;
        return (megabytes / seconds, handshakeMs);
    }

    /// <summary>Two v2 nodes over loopback TCP; A publishes <paramref name="messages"/>; time until B has them all.</summary>
    private static async Task<double> GossipAsync(bool secured, int messages)
    {
        using GossipKeys aKeys = GossipKeys.Generate(), bKeys = GossipKeys.Generate();
        byte[] network = RandomNumberGenerator.GetBytes(32);
        GossipNodeOptions Options(GossipKeys keys)
        {
            var options = new GossipNodeOptions { Keys = keys };
            if (secured)
            {
                options.Links.Middleware.Add(SecretHandshakeMiddleware.Create(keys, new PrivateNetworkOptions { NetworkKeys = [network] }));
            }

            return options;
        }

        await using var a = new GossipNode(Options(aKeys));
        await using var b = new GossipNode(Options(bKeys));
        await using TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task serving = listener.ServeAsync(a, cancellationToken: stop.Token);
        Task dialling = TcpGossipClient.MaintainAsync(b, listener.LocalEndPoint, new TcpGossipClientOptions { PeerKey = secured ? aKeys.PublicKey.ToArray() : null }, cancellationToken: stop.Token);
        while (!b.Peers.Any(p => p.Version == 2) || !a.Peers.Any(p => p.Version == 2))
        {
            await Task.Delay(5); // set-up only, not measured
        }

        // One message first, delivered before the clock starts, so a's tree is built and b is in it: the burst is then
        // pushed along the tree, and the figure is the link's, not the tree's set-up (a burst to a link not yet in the
        // author's tree is announced and pulled, and takes graft round trips).
        var warm = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        b.MessageReceived += (_, _) => warm.TrySetResult();
        a.PublishJson("{\"warm\":true}");
        await warm.Task.WaitAsync(TimeSpan.FromSeconds(20));

        int received = 0;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        b.MessageReceived += (_, _) =>
        {
            if (Interlocked.Increment(ref received) == messages + 1)
            {
                done.TrySetResult();
            }
        };
        Interlocked.Increment(ref received); // the warm-up message
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < messages; i++)
        {
            a.PublishJson($"{{\"i\":{i},\"pad\":\"0123456789abcdef0123456789abcdef\"}}");
        }

        try
        {
            await done.Task.WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{(secured ? "secured" : "plain")}: B has {received} of {messages} after 20 s; a: {a.Statistics}, b: {b.Statistics}");
        }

        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        await stop.CancelAsync();
        await Task.WhenAll(serving, dialling);
        return messages / seconds;
    }

    /// <summary>Hands the listener's connections to the benchmark instead of a node.</summary>
    private sealed class Acceptor(TaskCompletionSource<GossipConnection> accepted) : IGossipConnectionHandler
    {
        public Task RunConnectionAsync(GossipConnection connection, CancellationToken cancellationToken)
        {
            accepted.TrySetResult(connection);
            return Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        public TimeSpan BackedOffFor(IPAddress address) => TimeSpan.Zero;

        public bool IsStopped => false;

        public GossipDefenceOptions Defences { get; } = new();
    }

    /// <summary>A dialled connection given the key its server must prove.</summary>
    private sealed class StreamConnectionWithKey : GossipConnection
    {
        private readonly GossipConnection _inner;

        public StreamConnectionWithKey(GossipConnection inner, byte[] key)
        {
            _inner = inner;
            PeerKey = key;
            Direction = GossipConnectionDirection.Outbound;
        }

        public override System.IO.Pipelines.PipeReader Input => _inner.Input;

        public override System.IO.Pipelines.PipeWriter Output => _inner.Output;

        protected override ValueTask DisposeCoreAsync() => _inner.DisposeAsync();
    }
}
