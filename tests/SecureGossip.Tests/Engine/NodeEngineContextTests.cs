using Microsoft.Extensions.Logging.Abstractions;
using SecureGossip.Crypto;
using SecureGossip.Engine;
using SecureGossip.Links;
using SecureGossip.Protocol.Core;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Engine;

/// <summary>The engine's view of a real node: what it hands the links, and in what order.</summary>
public sealed class NodeEngineContextTests
{
    [Fact]
    public async Task A_sync_answer_leaves_after_what_the_core_sent_before_it_in_the_same_turn()
    {
        // A node that offers a new link its tree (a beacon) and, in the same turn of its actor, answers the link's
        // frontier with that tree's messages: the beacon waited for the end of the turn while the answer went straight
        // to the link's paced queue, so the peer got the messages first (CI once saw a healed partition stall on it).
        using GossipKeys keys = GossipKeys.Generate();
        var node = new NodeServices(new GossipNodeOptions { Keys = keys }, keys, NullLogger.Instance);
        var context = new NodeEngineContext(node);
        (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
        using var cancellation = new CancellationTokenSource();
        var link = new PeerLink(node, left, cancellation) { Transport = left };
        context.Add(link);

        var beacon = new PlumtreeBeacon(context.Self, 1);
        context.Send(link.Id, beacon);
        context.Send(link.Id, new PlumtreeMessage(MessageId.FromDigest(context.Self, 1), 100, PlumtreeSendKind.Sync, 1, false) { Line = new byte[100] });
        context.FlushSends();

        Assert.True(link.Outbox.Reader.TryRead(out object? first));
        Assert.Same(beacon, first); // then the marker of the paced queue
        Assert.True(link.Outbox.Reader.TryRead(out object? second));
        Assert.IsType<byte[]>(second);
        await left.DisposeAsync();
        await right.DisposeAsync();
    }
}
