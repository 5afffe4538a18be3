using System.Net;
using SecureGossip.Protocol.Membership;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Links;

/// <summary>
/// Nodes that build their own links (issue #12, part 2): each knows only the first node's address, joins through it over
/// real TCP on 127.0.0.1, and keeps a HyParView active view; neighbours that die are replaced from the passive view.
/// </summary>
public sealed class MembershipTests
{
    [Fact]
    public async Task Nodes_that_know_only_the_first_node_form_one_network_and_every_message_reaches_every_node()
    {
        await using var network = await MembershipNetwork.StartAsync(8);

        await network.WaitUntilEveryNodeHasNeighboursAsync(1);
        // Each node has had a neighbour (awaited above; one may be between two for a moment), and never more than the view.
        Assert.All(network.Nodes, n => Assert.InRange(n.Node.Neighbours.Count, 0, new HyParViewOptions().ActiveViewSize));

        // Membership decides which links stay: links that are not in the view (a neighbour dropped to make room) close.
        foreach (MembershipNode node in network.Nodes)
        {
            await node.Node.WaitForPeersAsync(p => p.Count <= new HyParViewOptions().ActiveViewSize);
        }

        await network.PublishAndAwaitEverywhereAsync(network.Nodes[^1], "from the last to join");
        await network.PublishAndAwaitEverywhereAsync(network.Nodes[0], "from the first");
    }

    [Fact]
    public async Task When_nodes_die_the_survivors_replace_them_and_every_later_message_reaches_every_survivor()
    {
        await using var network = await MembershipNetwork.StartAsync(8, new HyParViewOptions { ActiveViewSize = 3, PassiveViewSize = 10 });
        await network.WaitUntilEveryNodeHasNeighboursAsync(2);

        var downs = new System.Collections.Concurrent.ConcurrentQueue<string>();
        foreach (MembershipNode node in network.Nodes)
        {
            node.Node.NeighbourChanged += (_, e) =>
            {
                if (!e.Up)
                {
                    downs.Enqueue(e.Address);
                }
            };
        }

        MembershipNode[] dead = [network.Nodes[2], network.Nodes[4], network.Nodes[5]];
        foreach (MembershipNode node in dead)
        {
            await network.KillAsync(node);
        }

        string[] deadAddresses = [.. dead.Select(d => d.Address)];
        foreach (MembershipNode survivor in network.Nodes)
        {
            // Each survivor drops the dead from its view and is left with (or finds) at least one live neighbour.
            await survivor.Node.WhenNeighboursAsync(n => n.Count >= 1 && !n.Intersect(deadAddresses).Any()).WaitAsync(Gossip.Timeout);
        }

        // Every neighbour lost was reported, as an event and in the statistics.
        Assert.Contains(downs, deadAddresses.Contains);
        Assert.True(network.Nodes.Sum(n => n.Node.Statistics.NeighboursDown) >= downs.Count(deadAddresses.Contains));
        Assert.All(network.Nodes, n => Assert.True(n.Node.Statistics.NeighboursUp >= 1));

        await network.PublishAndAwaitEverywhereAsync(network.Nodes[1], "after the failures");
        await network.PublishAndAwaitEverywhereAsync(network.Nodes[^1], "after the failures, again");
    }

    [Fact]
    public async Task A_node_restarted_on_its_store_rejoins_through_the_peers_it_knew_without_a_bootstrap_address()
    {
        string directory = Directory.CreateTempSubdirectory("sg-membership-").FullName;
        try
        {
            await using var network = await MembershipNetwork.StartAsync(4);
            string store = Path.Combine(directory, "node.db");
            MembershipNode first = await network.AddAsync(store, bootstrap: true);
            await first.Node.WhenNeighboursAsync(n => n.Count >= 1).WaitAsync(Gossip.Timeout);
            await network.KillAsync(first); // disposed: its views are saved

            MembershipNode again = await network.AddAsync(store, bootstrap: false);
            await again.Node.WhenNeighboursAsync(n => n.Count >= 1).WaitAsync(Gossip.Timeout);
            await network.PublishAndAwaitEverywhereAsync(network.Nodes[0], "to the node that came back");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_peer_that_floods_membership_frames_has_the_excess_dropped_and_is_cut()
    {
        await using var network = await MembershipNetwork.StartAsync(1);
        MembershipNode target = network.Nodes[0];
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, int.Parse(target.Address.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture));
        using var stream = client.GetStream();

        // A hello that advertises an address, then low-priority neighbour requests, each of which the node would answer.
        var flood = new System.Text.StringBuilder();
        flood.Append(System.Text.Encoding.UTF8.GetString(SecureGossip.Protocol.V2Hello.Create("attacker.ed25519", 8192, advertise: "127.0.0.1:1"))).Append('\n');
        for (int i = 0; i < 3000; i++)
        {
            flood.Append("{\"sg2\":\"hv\",\"t\":\"nbr\",\"hi\":false}\n");
        }

        try
        {
            await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(flood.ToString()));
        }
        catch (IOException)
        {
            // cut while still writing
        }

        // The node cuts the link: reading ends (what it answered before the cut may come first).
        byte[] buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(Gossip.Timeout);
        try
        {
            while (await stream.ReadAsync(buffer, timeout.Token) > 0)
            {
            }
        }
        catch (IOException)
        {
            // reset by the node
        }

        Assert.False(timeout.IsCancellationRequested, "the flooding link was not cut");
        Assert.True(target.Node.Statistics.MembershipFramesDropped > 0);
        Assert.True(target.Node.Statistics.MembershipFramesDropped <= 3000 - new GossipMembershipOptions().MaxFramesPerSecond);
    }

    [Fact]
    public void A_node_refuses_membership_it_cannot_run_with_a_message_that_says_why()
    {
        var unspecified = Assert.Throws<ArgumentException>(() => new GossipNode(new GossipNodeOptions { Membership = new GossipMembershipOptions { AdvertisedAddress = "0.0.0.0:7000" } }));
        Assert.Contains("cannot be dialled by others", unspecified.Message, StringComparison.Ordinal);

        var missing = Assert.Throws<ArgumentException>(() => new GossipNode(new GossipNodeOptions { Membership = new GossipMembershipOptions() }));
        Assert.Contains("AdvertisedAddress", missing.Message, StringComparison.Ordinal);

        var badBootstrap = new GossipMembershipOptions { AdvertisedAddress = "127.0.0.1:7000" };
        badBootstrap.Bootstrap.Add("nowhere");
        Assert.Contains("is not HOST:PORT", Assert.Throws<ArgumentException>(() => new GossipNode(new GossipNodeOptions { Membership = badBootstrap })).Message, StringComparison.Ordinal);

        var v1 = Assert.Throws<ArgumentException>(() => new GossipNode(new GossipNodeOptions { Protocol = GossipProtocol.V1, Membership = new GossipMembershipOptions { AdvertisedAddress = "127.0.0.1:7000" } }));
        Assert.Contains("protocol v2", v1.Message, StringComparison.Ordinal);
    }

    internal sealed class MembershipNode(GossipNode node, TcpGossipListener listener, CancellationTokenSource stop, Task serving)
    {
        public GossipNode Node { get; } = node;

        public string Address { get; } = listener.LocalEndPoint.ToString()!;

        public async Task StopAsync()
        {
            await stop.CancelAsync();
            await listener.DisposeAsync();
            await Node.DisposeAsync();
            await serving;
            stop.Dispose();
        }
    }

    internal sealed class MembershipNetwork : IAsyncDisposable
    {
        private MembershipNetwork(List<MembershipNode> nodes) => Nodes = nodes;

        public List<MembershipNode> Nodes { get; }

        public static async Task<MembershipNetwork> StartAsync(int count, HyParViewOptions? view = null)
        {
            var nodes = new List<MembershipNode>();
            for (int i = 0; i < count; i++)
            {
                TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
                var membership = new GossipMembershipOptions
                {
                    AdvertisedAddress = listener.LocalEndPoint.ToString(),
                    HyParView = (view ?? new HyParViewOptions()) with { ShuffleInterval = TimeSpan.FromSeconds(2), RepairInterval = TimeSpan.FromMilliseconds(200) },
                };
                if (i > 0)
                {
                    membership.Bootstrap.Add(nodes[0].Address);
                }

                var node = new GossipNode(new GossipNodeOptions { Interval = Gossip.FastInterval, Membership = membership });
                var stop = new CancellationTokenSource();
                nodes.Add(new MembershipNode(node, listener, stop, listener.ServeAsync(node, cancellationToken: stop.Token)));
                if (i == 0)
                {
                    continue;
                }

                // Joins one after another, as the simulator's do: the walk of each join finds the views the last left.
                await node.WhenNeighboursAsync(n => n.Count >= 1).WaitAsync(Gossip.Timeout);
            }

            await Task.Yield();
            return new MembershipNetwork(nodes);
        }

        /// <summary>One more node (with a store at <paramref name="storePath"/>), joining through the first if <paramref name="bootstrap"/>.</summary>
        public async Task<MembershipNode> AddAsync(string storePath, bool bootstrap)
        {
            TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
            var membership = new GossipMembershipOptions
            {
                AdvertisedAddress = listener.LocalEndPoint.ToString(),
                HyParView = new HyParViewOptions { ShuffleInterval = TimeSpan.FromSeconds(2), RepairInterval = TimeSpan.FromMilliseconds(200) },
            };
            if (bootstrap)
            {
                membership.Bootstrap.Add(Nodes[0].Address);
            }

            var node = new GossipNode(new GossipNodeOptions
            {
                Interval = Gossip.FastInterval,
                Membership = membership,
                Store = new SecureGossip.Storage.SqliteGossipStore(storePath),
                OwnsStore = true,
            });
            var stop = new CancellationTokenSource();
            var added = new MembershipNode(node, listener, stop, listener.ServeAsync(node, cancellationToken: stop.Token));
            Nodes.Add(added);
            await Task.Yield();
            return added;
        }

        public async Task WaitUntilEveryNodeHasNeighboursAsync(int atLeast)
        {
            foreach (MembershipNode node in Nodes)
            {
                await node.Node.WhenNeighboursAsync(n => n.Count >= atLeast).WaitAsync(Gossip.Timeout);
            }
        }

        public async Task KillAsync(MembershipNode node)
        {
            Nodes.Remove(node);
            await node.StopAsync();
        }

        public async Task PublishAndAwaitEverywhereAsync(MembershipNode from, string text)
        {
            var waits = Nodes.Where(n => n != from).Select(n => MessageAsync(n.Node, text)).ToList();
            from.Node.Publish(new { text });
            await Task.WhenAll(waits).WaitAsync(Gossip.Timeout);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (MembershipNode node in Nodes)
            {
                await node.StopAsync();
            }
        }

        private static async Task MessageAsync(GossipNode node, string text)
        {
            using GossipSubscription subscription = node.Subscribe();
            await foreach (GossipMessage message in subscription.ReadAllAsync())
            {
                if (message.Payload.TryGetProperty("text", out var got) && got.GetString() == text)
                {
                    return;
                }
            }
        }
    }
}
