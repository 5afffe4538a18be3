using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using SecureGossip.Crypto;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Links;

/// <summary>
/// Nodes of a private network over real TCP on 127.0.0.1: the secret handshake and box-stream as connection
/// middleware. Strangers are refused, counted and logged; the honest link keeps gossiping meanwhile.
/// </summary>
public sealed class PrivateNetworkTests
{
    private static readonly byte[] s_network = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public async Task Members_gossip_over_box_stream_and_a_node_of_another_network_or_a_plain_peer_is_refused()
    {
        using var log = new LogCapture();
        using GossipKeys aKeys = GossipKeys.Generate(), bKeys = GossipKeys.Generate(), strangerKeys = GossipKeys.Generate();
        await using GossipNode a = Member(aKeys, s_network, log);
        await using GossipNode b = Member(bKeys, s_network);
        await using TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task serving = listener.ServeAsync(a, cancellationToken: stop.Token);
        var atB = Gossip.Watch(b);
        Task dialling = TcpGossipClient.MaintainAsync(b, listener.LocalEndPoint, new TcpGossipClientOptions { PeerKey = aKeys.PublicKey.ToArray() }, cancellationToken: stop.Token);
        await b.WaitForPeersAsync(p => p is [{ Version: 2 }]);
        a.PublishJson("{\"n\":1}");
        Assert.Equal("{\"n\":1}", (await atB.WaitForAsync(1))[0].ToString());

        // A node of another network: refused at its first message, and a's link to b is untouched.
        await using (GossipNode stranger = Member(strangerKeys, RandomNumberGenerator.GetBytes(32)))
        {
            await stranger.RunConnectionAsync(await DialAsync(listener.LocalEndPoint, aKeys)).WaitAsync(Gossip.Timeout);
        }

        await a.WaitForStatisticsAsync(s => s.HandshakesRefused >= 1);
        await log.WaitForAsync((level, message) => level == LogLevel.Information && message.Contains("wrong network key", StringComparison.Ordinal));

        // A plain peer (a JSON line where the handshake's hello belongs) is refused too.
        using (var plain = new TcpClient())
        {
            await plain.ConnectAsync(listener.LocalEndPoint);
            await plain.GetStream().WriteAsync("{\"public\":\"x\",\"data\":1,\"seq\":0,\"signature\":\"y\",\"padding\":\"to reach the size of a hello.....\"}\n"u8.ToArray());
            await a.WaitForStatisticsAsync(s => s.HandshakesRefused >= 2);
        }

        a.PublishJson("{\"n\":2}");
        Assert.Equal("{\"n\":2}", (await atB.WaitForAsync(2))[1].ToString());
        Assert.Equal(1, a.Statistics.ConnectedPeers);
        await stop.CancelAsync();
        await Task.WhenAll(serving, dialling);
    }

    [Fact]
    public async Task A_key_outside_the_allow_list_and_a_peer_that_stalls_in_the_handshake_are_refused_while_the_honest_link_goes_on()
    {
        using var log = new LogCapture();
        using GossipKeys aKeys = GossipKeys.Generate(), bKeys = GossipKeys.Generate(), outsiderKeys = GossipKeys.Generate();
        await using GossipNode a = Member(aKeys, s_network, log, allow: [bKeys.Id], handshakeTimeout: TimeSpan.FromSeconds(1));
        await using GossipNode b = Member(bKeys, s_network);
        await using TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task serving = listener.ServeAsync(a, cancellationToken: stop.Token);
        var atB = Gossip.Watch(b);

        // A peer that connects, sends half a hello and stalls: cut at the handshake timeout, holding nothing up.
        using var staller = new TcpClient();
        await staller.ConnectAsync(listener.LocalEndPoint);
        await staller.GetStream().WriteAsync(new byte[10]);

        Task dialling = TcpGossipClient.MaintainAsync(b, listener.LocalEndPoint, new TcpGossipClientOptions { PeerKey = aKeys.PublicKey.ToArray() }, cancellationToken: stop.Token);
        await b.WaitForPeersAsync(p => p is [{ Version: 2 }]);
        a.PublishJson("{\"n\":1}");
        Assert.Equal("{\"n\":1}", (await atB.WaitForAsync(1))[0].ToString());

        // A member of the network whose key is not allowed: refused, by name.
        await using (GossipNode outsider = Member(outsiderKeys, s_network))
        {
            await outsider.RunConnectionAsync(await DialAsync(listener.LocalEndPoint, aKeys)).WaitAsync(Gossip.Timeout);
        }

        await log.WaitForAsync((_, message) => message.Contains("is not allowed", StringComparison.Ordinal) && message.Contains(Convert.ToBase64String(outsiderKeys.PublicKey), StringComparison.Ordinal));
        await log.WaitForAsync((_, message) => message.Contains("the handshake took longer than 1 s", StringComparison.Ordinal));
        await a.WaitForStatisticsAsync(s => s.HandshakesRefused >= 2);

        a.PublishJson("{\"n\":2}");
        Assert.Equal("{\"n\":2}", (await atB.WaitForAsync(2))[1].ToString());
        await stop.CancelAsync();
        await Task.WhenAll(serving, dialling);
    }

    [Fact]
    [Trait(TestCategory.Name, TestCategory.Faults)]
    public async Task Bytes_dropped_inside_a_secured_link_end_it_instead_of_passing_unnoticed_and_the_redialled_link_catches_up()
    {
        using var log = new LogCapture();
        using GossipKeys aKeys = GossipKeys.Generate(), bKeys = GossipKeys.Generate();
        await using GossipNode a = Member(aKeys, s_network);
        await using GossipNode b = Member(bKeys, s_network, log);
        await using TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        await using FaultProxy proxy = FaultProxy.Start(listener.LocalEndPoint);
        using var stop = new CancellationTokenSource();
        Task serving = listener.ServeAsync(a, cancellationToken: stop.Token);
        var atB = Gossip.Watch(b);
        Task dialling = TcpGossipClient.MaintainAsync(b, proxy.EndPoint, new TcpGossipClientOptions { PeerKey = aKeys.PublicKey.ToArray() }, cancellationToken: stop.Token);
        await b.WaitForPeersAsync(p => p is [{ Version: 2 }]);
        a.PublishJson("{\"n\":1}");
        await atB.WaitForAsync(1);

        // The proxy swallows what a sends for a while: a box (or several) never arrives, and the next one does not open.
        ProxyConnection first = await proxy.WaitForConnectionAsync(0, Gossip.Timeout);
        first.Blackhole(ProxyDirection.ToClient);
        long before = first.BytesDropped(ProxyDirection.ToClient);
        a.PublishJson("{\"n\":2}");
        await first.WaitForDroppedAsync(ProxyDirection.ToClient, before + 1, Gossip.Timeout);
        first.Resume(ProxyDirection.ToClient);
        a.PublishJson("{\"n\":3}");

        try
        {
            await log.WaitForAsync((_, message) => message.Contains("did not open", StringComparison.Ordinal));
        }
        catch (TimeoutException)
        {
            // Seen once in many runs under load: say what the link did instead, for whoever meets it next.
            Assert.Fail($"no box failed to open within {Gossip.Timeout.TotalSeconds} s; b: {b.Statistics}; b's peers: {b.Peers.Count}; " +
                $"proxy connections: {proxy.Connections.Count} ({proxy.LiveConnections.Count} live); dropped to b: {first.BytesDropped(ProxyDirection.ToClient)}; b's log: {string.Join(" | ", log.Entries.TakeLast(8).Select(e => e.Message))}");
        }

        await b.WaitForStatisticsAsync(s => s.SecuredLinksBroken == 1);
        string[] all = [.. (await atB.WaitForAsync(3)).Select(m => m.ToString()).Order(StringComparer.Ordinal)];
        Assert.Equal(["{\"n\":1}", "{\"n\":2}", "{\"n\":3}"], all); // nothing lost: the new link's catch-up brought the rest
        await stop.CancelAsync();
        await Task.WhenAll(serving, dialling);
    }

    /// <summary>One connection to <paramref name="endPoint"/>, dialled as the node with key <paramref name="server"/>.</summary>
    private static async Task<GossipConnection> DialAsync(IPEndPoint endPoint, GossipKeys server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint);
        return new StreamConnection(new NetworkStream(socket, ownsSocket: true), endPoint)
        {
            Direction = GossipConnectionDirection.Outbound,
            PeerKey = server.PublicKey.ToArray(),
        };
    }

    private static GossipNode Member(GossipKeys keys, byte[] network, ILoggerFactory? log = null, string[]? allow = null, TimeSpan? handshakeTimeout = null)
    {
        var options = new GossipNodeOptions { Keys = keys, Interval = Gossip.FastInterval, LoggerFactory = log };
        if (handshakeTimeout is { } timeout)
        {
            options.Links.HandshakeTimeout = timeout;
        }

        options.Links.Middleware.Add(SecretHandshakeMiddleware.Create(keys, new PrivateNetworkOptions { NetworkKeys = [network], Allow = allow }));
        return new GossipNode(options);
    }
}
