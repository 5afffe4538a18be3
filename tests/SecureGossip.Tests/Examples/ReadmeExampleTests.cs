using System.Net;
using SecureGossip.Crypto;
using SecureGossip.Storage;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Examples;

/// <summary>The README's C# example, compiled and run: keep the two in step.</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public async Task The_readme_example_delivers_to_both_peers()
    {
        var received = new List<string>();
        // --- README example starts ---
        await using var peer1 = new GossipNode();
        await using var peer2 = new GossipNode();
        await using var peer3 = new GossipNode();

        // Two links: peer1 <-> peer2 <-> peer3 (here over in-memory streams; TCP works the same way).
        Link(peer1.CreatePeerStream(), peer2.CreatePeerStream());
        Link(peer3.CreatePeerStream(), peer2.CreatePeerStream());

        peer1.MessageReceived += (_, msg) => Console.WriteLine($"peer1 got {msg} from {msg.Author}");
        peer2.MessageReceived += (_, msg) => Console.WriteLine($"peer2 got {msg} from {msg.Author}");

        peer3.Publish(new { data = "hello warld" });

        static void Link(Stream a, Stream b)
        {
            _ = a.CopyToAsync(b);
            _ = b.CopyToAsync(a);
        }
        // --- README example ends ---

        // The example attaches its handlers before it publishes; handlers attached here may come too late (the
        // message can cross both links before this line runs), so the wait is on the nodes' own counters.
        peer1.MessageReceived += (_, m) => Record(m);
        peer2.MessageReceived += (_, m) => Record(m);
        await peer1.WaitForStatisticsAsync(s => s.MessagesAccepted >= 1);
        await peer2.WaitForStatisticsAsync(s => s.MessagesAccepted >= 1);

        Assert.Equal(1, peer1.Statistics.MessagesAccepted);
        Assert.Equal(1, peer2.Statistics.MessagesAccepted);
        Assert.Equal(1, peer3.Statistics.MessagesPublished);
        lock (received)
        {
            Assert.All(received, text => Assert.Equal("{\"data\":\"hello warld\"}", text));
        }

        void Record(GossipMessage m)
        {
            lock (received)
            {
                received.Add(m.ToString());
            }
        }
    }

    [Fact]
    public async Task The_readme_v2_node_keeps_its_history_and_serves_it_to_a_v2_peer()
    {
        DirectoryInfo dataDir = Directory.CreateTempSubdirectory("sg-readme-");
        try
        {
            int port;
            using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }

            using var stop = new CancellationTokenSource();
            var output = new PrintedLines(); // written by the node's thread, awaited here
            Task running = RunNodeAsync(dataDir.FullName, new IPEndPoint(IPAddress.Loopback, port), output, stop.Token);

            await using var peer = new GossipNode();
            Task linked = TcpGossipClient.MaintainAsync(peer, new IPEndPoint(IPAddress.Loopback, port), cancellationToken: stop.Token);
            await peer.WaitForPeersAsync(p => p is [{ Version: 2 }]);
            peer.PublishJson("{\"text\":\"hi\"}");
            await output.WaitForAsync("{\"text\":\"hi\"}");
            await stop.CancelAsync();
            await Task.WhenAll(running, linked);

            Assert.StartsWith($"{peer.Keys.Public} #0: {{\"text\":\"hi\"}}", output.ToString(), StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(dataDir.FullName, "node.db")));
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            dataDir.Delete(recursive: true);
        }
    }

    // --- README v2 example starts ---
    static async Task RunNodeAsync(string dataDir, IPEndPoint listenOn, TextWriter output, CancellationToken stop)
    {
        using GossipKeys keys = GossipKeys.LoadOrCreate(Path.Combine(dataDir, "secret"));
        await using var node = new GossipNode(new GossipNodeOptions
        {
            Keys = keys,
            Store = new SqliteGossipStore(Path.Combine(dataDir, "node.db")),   // seq, seen ids and history survive restarts
            OwnsStore = true,
            Retention = new GossipRetention { MaxAge = TimeSpan.FromHours(6), MaxPerAuthor = 500 },
        });
        await using TcpGossipListener listener = TcpGossipListener.Start(listenOn);
        Task serving = listener.ServeAsync(node, cancellationToken: stop);
        try
        {
            await foreach (GossipMessage message in node.ReadMessagesAsync(stop))
            {
                output.WriteLine($"{message.Author} #{message.Sequence}: {message}");
            }
        }
        catch (OperationCanceledException)
        {
        }

        await serving;
    }
    // --- README v2 example ends ---

    /// <summary>What the README node prints, and a wait for a text to appear in it.</summary>
    private sealed class PrintedLines : StringWriter
    {
        private readonly Lock _gate = new();
        private readonly List<(string Text, TaskCompletionSource Done)> _waiters = [];

        public override void WriteLine(string? value)
        {
            lock (_gate)
            {
                base.WriteLine(value);
                string printed = GetStringBuilder().ToString();
                _waiters.RemoveAll(w => printed.Contains(w.Text, StringComparison.Ordinal) && w.Done.TrySetResult());
            }
        }

        public Task WaitForAsync(string text)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                if (GetStringBuilder().ToString().Contains(text, StringComparison.Ordinal))
                {
                    return Task.CompletedTask;
                }

                _waiters.Add((text, done));
            }

            return done.Task.WaitAsync(Gossip.Timeout);
        }

        public override string ToString()
        {
            lock (_gate)
            {
                return GetStringBuilder().ToString();
            }
        }
    }
}
