using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using SecureGossip.Crypto;
using SecureGossip.Protocol;
using SecureGossip.Protocol.Membership;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Links;

/// <summary>
/// Topics (issue #12, part 3; docs/PROTOCOL.md §20): each topic is its own overlay and dissemination, several topics
/// share one listener through a <see cref="GossipTopicRouter"/>, and a message reaches only its topic's members.
/// </summary>
public sealed class TopicTests
{
    [Fact]
    public void A_topic_id_is_the_sha256_of_its_prefixed_name_and_default_names_the_default_topic()
    {
        GossipTopic chat = GossipTopic.FromName("chat");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("secure-gossip/topic/v1:chat"))), chat.Id);
        Assert.True(GossipTopic.IsId(chat.Id));
        Assert.Equal(chat, GossipTopic.FromName("chat"));
        Assert.NotEqual(chat, GossipTopic.FromName("Chat"));
        Assert.Same(GossipTopic.Default, GossipTopic.FromName("default"));
        Assert.Null(GossipTopic.Default.Id);
        Assert.True(GossipTopic.Default.IsDefault);

        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => GossipTopic.FromName(" ")).Message, StringComparison.Ordinal);
        Assert.Contains("control", Assert.Throws<ArgumentException>(() => GossipTopic.FromName("a\nb")).Message, StringComparison.Ordinal);
        Assert.Contains("at most 256 bytes", Assert.Throws<ArgumentException>(() => GossipTopic.FromName(new string('é', 129))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_topic_other_than_the_default_needs_v2_and_reserves_the_sg_member()
    {
        var v1 = Assert.Throws<ArgumentException>(() => new GossipNode(new GossipNodeOptions { Protocol = GossipProtocol.V1, Topic = GossipTopic.FromName("chat") }));
        Assert.Contains("needs protocol v2", v1.Message, StringComparison.Ordinal);

        await using GossipNode node = new(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, Topic = GossipTopic.FromName("chat") });
        var reserved = Assert.Throws<ArgumentException>(() => node.PublishJson("{\"$sg\":1}"));
        Assert.Contains("reserve for the signed topic (chat)", reserved.Message, StringComparison.Ordinal);

        // The topic is signed into the message, and taken off again for the application.
        string line = Gossip.SignedLine(node, "{\"text\":\"hi\"}");
        Assert.Contains($"\"$sg\":{{\"topic\":\"{GossipTopic.FromName("chat").Id}\"}}", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_topic_reaches_only_its_members_over_one_listener_per_host_with_its_own_overlay()
    {
        GossipTopic a = GossipTopic.FromName("alpha"), b = GossipTopic.FromName("beta");
        await using var hosts = new TopicHosts();
        TopicHost first = await hosts.StartAsync([GossipTopic.Default, a, b], bootstrap: null);
        var events = new ConcurrentQueue<GossipNeighbourEventArgs>();
        foreach (GossipNode node in first.Router.Nodes)
        {
            node.NeighbourChanged += (_, e) => events.Enqueue(e);
        }

        TopicHost onlyA = await hosts.StartAsync([a], first.Address);
        TopicHost both = await hosts.StartAsync([a, b], first.Address);
        TopicHost onlyB = await hosts.StartAsync([b], first.Address);
        TopicHost onlyDefault = await hosts.StartAsync([GossipTopic.Default], first.Address);

        // Each topic's overlay holds its members only.
        await first.Router[a]!.WhenNeighboursAsync(n => n.Contains(onlyA.Address) && n.Contains(both.Address)).WaitAsync(Gossip.Timeout);
        await first.Router[b]!.WhenNeighboursAsync(n => n.Contains(onlyB.Address) && n.Contains(both.Address)).WaitAsync(Gossip.Timeout);
        Assert.DoesNotContain(onlyB.Address, first.Router[a]!.Neighbours);
        Assert.DoesNotContain(onlyA.Address, first.Router[b]!.Neighbours);
        await first.Router[GossipTopic.Default]!.WhenNeighboursAsync(n => n.Count == 1 && n[0] == onlyDefault.Address).WaitAsync(Gossip.Timeout);

        // Neighbour events say which topic's overlay they are about.
        Assert.Contains(events, e => e.Up && e.Topic.Equals(a) && e.Address == onlyA.Address);
        Assert.Contains(events, e => e.Up && e.Topic.Equals(b) && e.Address == onlyB.Address);
        Assert.DoesNotContain(events, e => e.Address == onlyA.Address && !e.Topic.Equals(a));

        Gossip.Inbox[] inboxA = [.. new[] { first, onlyA, both }.Select(h => Gossip.Watch(h.Router[a]!))];
        Gossip.Inbox[] inboxB = [.. new[] { first, both, onlyB }.Select(h => Gossip.Watch(h.Router[b]!))];
        Gossip.Inbox[] inboxDefault = [.. new[] { first, onlyDefault }.Select(h => Gossip.Watch(h.Router[GossipTopic.Default]!))];

        onlyA.Router[a]!.Publish(new { text = "to alpha" });
        onlyB.Router[b]!.Publish(new { text = "to beta" });
        onlyDefault.Router[GossipTopic.Default]!.Publish(new { text = "to default" });
        both.Router[b]!.Publish(new { text = "to beta again" });

        await inboxA[0].WaitForAsync(1); // first and both hear alpha from onlyA
        await inboxA[2].WaitForAsync(1);
        await inboxB[0].WaitForAsync(2); // first hears both beta messages, both and onlyB each the other's
        await inboxB[1].WaitForAsync(1);
        await inboxB[2].WaitForAsync(1);
        await inboxDefault[0].WaitForAsync(1);

        // Every node got its topic's messages and nothing else: once all are delivered, nothing else arrived.
        Assert.All(inboxA, i => Assert.All(i.Messages, m => Assert.Equal("to alpha", m.Payload.GetProperty("text").GetString())));
        Assert.All(inboxB, i => Assert.All(i.Messages, m => Assert.StartsWith("to beta", m.Payload.GetProperty("text").GetString(), StringComparison.Ordinal)));
        Assert.All(inboxDefault, i => Assert.All(i.Messages, m => Assert.Equal("to default", m.Payload.GetProperty("text").GetString())));
        Assert.All(inboxB.Take(2), i => Assert.DoesNotContain(i.Messages, m => m.Payload.TryGetProperty("$sg", out _))); // the signed topic is not the application's
        Assert.All(hosts.Nodes, n => Assert.Equal(0, n.Statistics.DroppedWrongTopic));
        Assert.True(first.Router.Routed >= 4);
    }

    [Fact]
    public async Task A_message_signed_for_one_topic_is_dropped_in_another_and_in_the_default()
    {
        GossipTopic a = GossipTopic.FromName("alpha"), b = GossipTopic.FromName("beta");
        using GossipKeys author = GossipKeys.Generate();
        await using GossipNode publisherA = new(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, Keys = author, Topic = a });
        await using GossipNode publisherDefault = new(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, Keys = author });
        string signedForA = Gossip.SignedLine(publisherA, "{\"text\":\"for alpha\"}");
        string signedForDefault = Gossip.SignedLine(publisherDefault, "{\"text\":\"for default\"}");

        await using GossipNode memberB = new(new GossipNodeOptions { Interval = Gossip.FastInterval, Topic = b });
        await using GossipNode memberA = new(new GossipNodeOptions { Interval = Gossip.FastInterval, Topic = a });
        await using GossipNode memberDefault = new(new GossipNodeOptions { Interval = Gossip.FastInterval });

        // A relay on both topics replays the alpha message into beta (and into the default topic, and a default message into beta).
        await SendAsync(memberB, b, signedForA, signedForDefault);
        await SendAsync(memberDefault, GossipTopic.Default, signedForA);
        await SendAsync(memberA, a, signedForA);

        await memberB.WaitForStatisticsAsync(s => s.DroppedWrongTopic == 2);
        await memberDefault.WaitForStatisticsAsync(s => s.DroppedWrongTopic == 1);
        await memberA.WaitForStatisticsAsync(s => s.MessagesAccepted == 1);
        Assert.Equal(0, memberB.Statistics.MessagesAccepted);
        Assert.Equal(0, memberDefault.Statistics.MessagesAccepted);
        Assert.Equal(0, memberA.Statistics.DroppedWrongTopic);

        static async Task SendAsync(GossipNode node, GossipTopic topic, params string[] lines)
        {
            Stream stream = node.CreatePeerStream();
            byte[] hello = V2Hello.Create(GossipKeys.Generate().Public, 1 << 20, topic: topic.Id);
            await stream.WriteAsync(hello);
            await stream.WriteAsync("\n"u8.ToArray());
            foreach (string line in lines)
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"));
            }

            await stream.FlushAsync();
        }
    }

    [Fact]
    public async Task A_link_from_another_topic_or_without_a_hello_is_closed_by_a_topic_node()
    {
        GossipTopic a = GossipTopic.FromName("alpha");
        await using GossipNode member = new(new GossipNodeOptions { Interval = Gossip.FastInterval, Topic = a });
        await using GossipNode member2 = new(new GossipNodeOptions { Interval = Gossip.FastInterval, Topic = GossipTopic.FromName("beta") });
        await using GossipNode plain = new(new GossipNodeOptions { Interval = Gossip.FastInterval });

        // Two .NET nodes on different topics (one the default) linked directly: each closes the link at the other's hello.
        Gossip.Link(member, member2);
        Gossip.Link(member, plain);
        await member.WaitForStatisticsAsync(s => s.TopicMismatches >= 2);
        await member.WaitForPeersAsync(p => p.Count == 0);
        await plain.WaitForPeersAsync(p => p.Count == 0);
        Assert.True(plain.Statistics.TopicMismatches >= 1);

        // A v1 peer (a message line, no hello) cannot be on a topic.
        using GossipKeys js = GossipKeys.Generate();
        await using GossipNode v1 = new(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, Keys = js, Protocol = GossipProtocol.V1 });
        Stream stream = member.CreatePeerStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(Gossip.SignedLine(v1, "{\"a\":1}") + "\n"));
        await stream.FlushAsync();
        await member.WaitForStatisticsAsync(s => s.TopicMismatches >= 3);
        Assert.Equal(0, member.Statistics.MessagesAccepted);
    }

    [Fact]
    public async Task The_router_sends_silent_and_v1_peers_to_the_default_topic_and_refuses_a_topic_it_has_not()
    {
        using GossipKeys keys = GossipKeys.Generate();
        await using GossipNode defaultNode = new(new GossipNodeOptions { Interval = Gossip.FastInterval, Keys = keys });
        await using GossipNode alpha = new(new GossipNodeOptions { Interval = Gossip.FastInterval, Keys = keys, Topic = GossipTopic.FromName("alpha") });
        await using var router = new GossipTopicRouter(new GossipTopicRouterOptions { SilenceWait = TimeSpan.FromMilliseconds(300) });
        router.Add(defaultNode);
        router.Add(alpha);
        Assert.Contains("already has a node for the topic alpha", Assert.Throws<ArgumentException>(() => router.Add(alpha)).Message, StringComparison.Ordinal);
        await using GossipNode stranger = new(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, Topic = GossipTopic.FromName("gamma") });
        Assert.Contains("one key", Assert.Throws<ArgumentException>(() => router.Add(stranger)).Message, StringComparison.Ordinal);

        TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task serving = listener.ServeAsync(router, cancellationToken: stop.Token);
        try
        {
            var port = ((IPEndPoint)listener.LocalEndPoint).Port;

            // A silent peer (a JS 0.3.1 peer with nothing to say yet) is the default topic's.
            using var silent = new TcpClient();
            await silent.ConnectAsync(IPAddress.Loopback, port);
            await defaultNode.WaitForPeersAsync(p => p.Count == 1);

            // A v1 line goes to the default topic and is delivered there.
            using GossipKeys js = GossipKeys.Generate();
            await using GossipNode v1 = new(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, Keys = js, Protocol = GossipProtocol.V1 });
            using var speaker = new TcpClient();
            await speaker.ConnectAsync(IPAddress.Loopback, port);
            await speaker.GetStream().WriteAsync(Encoding.UTF8.GetBytes(Gossip.SignedLine(v1, "{\"from\":\"js\"}") + "\n"));
            await defaultNode.WaitForStatisticsAsync(s => s.MessagesAccepted == 1);

            // A hello for a topic this host has not joined is closed by the router.
            using var other = new TcpClient();
            await other.ConnectAsync(IPAddress.Loopback, port);
            NetworkStream stream = other.GetStream();
            await stream.WriteAsync(V2Hello.Create(GossipKeys.Generate().Public, 1 << 20, topic: GossipTopic.FromName("gamma").Id));
            await stream.WriteAsync("\n"u8.ToArray());
            byte[] buffer = new byte[1024];
            using var timeout = new CancellationTokenSource(Gossip.Timeout);
            Assert.Equal(0, await ReadToEndAsync(stream, buffer, timeout.Token));
            Assert.Equal(1, router.Refused);
            Assert.Empty(alpha.Peers);
            Assert.Equal(2, router.Routed);
        }
        finally
        {
            await stop.CancelAsync();
            await listener.DisposeAsync();
            await serving;
        }

        static async Task<int> ReadToEndAsync(NetworkStream stream, byte[] buffer, CancellationToken cancellationToken)
        {
            int total = 0;
            try
            {
                int read;
                while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    total += read;
                }
            }
            catch (IOException)
            {
                // reset
            }

            return total;
        }
    }

    [Fact]
    public async Task Topics_on_a_private_network_are_routed_behind_the_secret_handshake()
    {
        byte[] networkKey = RandomNumberGenerator.GetBytes(32);
        GossipTopic a = GossipTopic.FromName("alpha");
        await using var hosts = new TopicHosts(networkKey);
        TopicHost first = await hosts.StartAsync([GossipTopic.Default, a], bootstrap: null);
        TopicHost second = await hosts.StartAsync([a], first.Address);
        await first.Router[a]!.WhenNeighboursAsync(n => n.Contains(second.Address)).WaitAsync(Gossip.Timeout);

        Gossip.Inbox inbox = Gossip.Watch(first.Router[a]!);
        second.Router[a]!.Publish(new { text = "secret alpha" });
        await inbox.WaitForAsync(1);
        Assert.Equal("secret alpha", inbox.Messages[0].Payload.GetProperty("text").GetString());
        Assert.StartsWith("@", second.Address, StringComparison.Ordinal); // dialled by key: every topic link ran the handshake
    }

    /// <summary>A process-like host: one key, one TCP listener serving a router, one node per topic (membership on each).</summary>
    private sealed class TopicHost(GossipTopicRouter router, TcpGossipListener listener, string address, GossipKeys keys)
    {
        public GossipTopicRouter Router { get; } = router;

        public TcpGossipListener Listener { get; } = listener;

        public string Address { get; } = address;

        public GossipKeys Keys { get; } = keys;
    }

    private sealed class TopicHosts(byte[]? networkKey = null) : IAsyncDisposable
    {
        private readonly List<TopicHost> _hosts = [];
        private readonly List<Task> _serving = [];
        private readonly CancellationTokenSource _stop = new();

        public IEnumerable<GossipNode> Nodes => _hosts.SelectMany(h => h.Router.Nodes);

        public async Task<TopicHost> StartAsync(GossipTopic[] topics, string? bootstrap)
        {
            GossipKeys keys = GossipKeys.Generate();
            TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
            string address = networkKey is null ? listener.LocalEndPoint.ToString()! : $"@{keys.Public.TrimStart('@')}@{listener.LocalEndPoint}";
            var router = new GossipTopicRouter();
            foreach (GossipTopic topic in topics)
            {
                var membership = new GossipMembershipOptions
                {
                    AdvertisedAddress = address,
                    HyParView = new HyParViewOptions { ShuffleInterval = TimeSpan.FromSeconds(2), RepairInterval = TimeSpan.FromMilliseconds(200) },
                };
                if (bootstrap is not null)
                {
                    membership.Bootstrap.Add(bootstrap);
                }

                var options = new GossipNodeOptions { Interval = Gossip.FastInterval, Keys = keys, Topic = topic, Membership = membership };
                if (networkKey is not null)
                {
                    options.Links.Middleware.Add(SecretHandshakeMiddleware.Create(keys, new PrivateNetworkOptions { NetworkKeys = [networkKey] }));
                }

                router.Add(new GossipNode(options));
            }

            var host = new TopicHost(router, listener, address, keys);
            _hosts.Add(host);
            _serving.Add(listener.ServeAsync(router, cancellationToken: _stop.Token));
            if (bootstrap is not null)
            {
                foreach (GossipNode node in router.Nodes)
                {
                    await node.WhenNeighboursAsync(n => n.Count >= 1).WaitAsync(Gossip.Timeout);
                }
            }

            return host;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            foreach (TopicHost host in _hosts)
            {
                await host.Listener.DisposeAsync();
                await host.Router.DisposeAsync();
                foreach (GossipNode node in host.Router.Nodes)
                {
                    await node.DisposeAsync();
                }

                host.Keys.Dispose();
            }

            await Task.WhenAll(_serving);
            _stop.Dispose();
        }
    }
}
