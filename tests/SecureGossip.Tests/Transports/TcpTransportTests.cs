using System.Net;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Transports;

public sealed class TcpTransportTests
{
    [Fact]
    public async Task Two_nodes_gossip_over_loopback_and_reconnect_after_the_link_drops()
    {
        await using GossipNode server = Gossip.Node(), client = Gossip.Node();
        await using TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task serving = listener.ServeAsync(server, cancellationToken: stop.Token);
        var serverInbox = Gossip.Watch(server);
        var clientInbox = Gossip.Watch(client);

        Task maintaining = TcpGossipClient.MaintainAsync(client, listener.LocalEndPoint, cancellationToken: stop.Token);
        client.PublishJson("{\"n\":1}");
        server.PublishJson("{\"m\":1}");
        Assert.Equal("{\"n\":1}", (await serverInbox.WaitForAsync(1))[0].ToString());
        Assert.Equal("{\"m\":1}", (await clientInbox.WaitForAsync(1))[0].ToString());

        // Break the link from the server side: the client notices and reconnects by itself.
        Assert.Equal(1, server.Statistics.ConnectedPeers);
        string dropped = Assert.Single(client.Peers).ConnectionId;
        await server.DisconnectAllAsync();
        await Task.WhenAll(
            server.WaitForPeersAsync(p => p.Count == 1),
            client.WaitForPeersAsync(p => p is [var link] && link.ConnectionId != dropped)); // a new link, not the old one's end
        client.PublishJson("{\"n\":2}");
        Assert.Equal("{\"n\":2}", (await serverInbox.WaitForAsync(2))[1].ToString());

        await stop.CancelAsync();
        await maintaining;
        await serving;
    }

    [Fact]
    public async Task Connecting_to_a_closed_port_fails_fast_with_a_socket_error()
    {
        await using TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        IPEndPoint closed = listener.LocalEndPoint;
        await listener.DisposeAsync();
        await Assert.ThrowsAsync<System.Net.Sockets.SocketException>(() => TcpGossipClient.ConnectAsync(closed));
    }
}
