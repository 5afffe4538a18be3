using System.Security.Cryptography;
using SecureGossip.Crypto;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Transports;

/// <summary>Gossip over WebSocket (Kestrel on 127.0.0.1, ClientWebSocket), plain and inside a private network.</summary>
public sealed class WebSocketTransportTests
{
    [Fact]
    public async Task Two_nodes_gossip_both_ways_over_a_websocket_and_the_client_dials_again_after_the_link_drops()
    {
        await using GossipNode server = Gossip.Node(), client = Gossip.Node();
        await using WebSocketGossipListener listener = await WebSocketGossipListener.StartAsync(new Uri("ws://127.0.0.1:0/gossip"), server);
        Assert.NotEqual(0, listener.Address.Port);
        Assert.Equal("/gossip", listener.Address.AbsolutePath);
        using var stop = new CancellationTokenSource();
        var atServer = Gossip.Watch(server);
        var atClient = Gossip.Watch(client);
        Task dialling = TcpGossipClient.MaintainAsync(client, new WebSocketEndPoint(listener.Address), cancellationToken: stop.Token);

        await client.WaitForPeersAsync(p => p is [{ Version: 2 }]);
        client.PublishJson("{\"over\":\"ws\"}");
        server.PublishJson("{\"back\":1}");
        Assert.Equal("{\"over\":\"ws\"}", (await atServer.WaitForAsync(1))[0].ToString());
        Assert.Equal("{\"back\":1}", (await atClient.WaitForAsync(1))[0].ToString());

        string dropped = Assert.Single(client.Peers).ConnectionId;
        await server.DisconnectAllAsync();
        await client.WaitForPeersAsync(p => p is [var link] && link.ConnectionId != dropped && link.Version == 2);
        client.PublishJson("{\"again\":2}");
        Assert.Equal("{\"again\":2}", (await atServer.WaitForAsync(2))[1].ToString());

        await stop.CancelAsync();
        await dialling;
    }

    [Fact]
    public async Task Members_of_a_private_network_run_the_handshake_and_box_stream_inside_the_websocket()
    {
        byte[] network = RandomNumberGenerator.GetBytes(32);
        using GossipKeys serverKeys = GossipKeys.Generate(), clientKeys = GossipKeys.Generate();
        await using GossipNode server = Member(serverKeys, network), client = Member(clientKeys, network);
        await using WebSocketGossipListener listener = await WebSocketGossipListener.StartAsync(new Uri("ws://127.0.0.1:0/"), server);
        using var stop = new CancellationTokenSource();
        var atClient = Gossip.Watch(client);
        Task dialling = TcpGossipClient.MaintainAsync(client, new WebSocketEndPoint(listener.Address), new TcpGossipClientOptions { PeerKey = serverKeys.PublicKey.ToArray() }, cancellationToken: stop.Token);

        await client.WaitForPeersAsync(p => p is [{ Version: 2 }]);
        server.PublishJson("{\"private\":true}");
        Assert.Equal("{\"private\":true}", (await atClient.WaitForAsync(1))[0].ToString());
        Assert.Equal(0, server.Statistics.HandshakesRefused);

        await stop.CancelAsync();
        await dialling;
    }

    private static GossipNode Member(GossipKeys keys, byte[] network)
    {
        var options = new GossipNodeOptions { Keys = keys, Interval = Gossip.FastInterval };
        options.Links.Middleware.Add(SecretHandshakeMiddleware.Create(keys, new PrivateNetworkOptions { NetworkKeys = [network] }));
        return new GossipNode(options);
    }
}
