using SecureGossip.Engine;
using SecureGossip.Protocol.Flood;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Tests.Simulation;

/// <summary>One v1 node (the engine with the flood module, as the simulator and a real node run it) fed events by hand.</summary>
public sealed class V1FloodProtocolTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    [Fact]
    public void Start_sets_the_first_round_at_a_random_phase_and_each_round_sets_the_next()
    {
        var node = GossipEngine.CreateV1(Interval);
        var context = new RecordingContext(self: 0);
        node.Start(context);
        (TimeSpan phase, long id) = Assert.Single(context.Timers);
        Assert.InRange(phase, TimeSpan.Zero, Interval - TimeSpan.FromTicks(1));

        node.Timer(context, id);
        Assert.Equal((Interval, id), context.Timers[1]);
    }

    [Fact]
    public void A_round_sends_every_stored_line_to_every_neighbour_including_its_sender_then_empties_the_store()
    {
        var node = GossipEngine.CreateV1(Interval);
        var context = new RecordingContext(self: 0);
        node.NeighbourUp(context, 1);
        node.NeighbourUp(context, 2);
        node.Publish(context, new MessageId(0, 0), 100);
        node.FrameReceived(context, 1, Line(author: 7, seq: 0, hops: 3));
        Assert.Equal(2, node.Flood!.PendingLines);

        node.Timer(context, V1FloodProtocol.RoundTimer);
        Assert.Equal([1, 1, 2, 2], context.Sent.Select(s => s.Neighbour)); // per link, as a real node batches its writes
        Assert.All(context.Sent, s => Assert.Equal(1, s.Frame.PayloadCount));
        Assert.Equal(300, context.Sent[0].Frame.SizeBytes); // payload + ~200 bytes of envelope
        Assert.Equal(0, node.Flood!.PendingLines);

        node.Timer(context, V1FloodProtocol.RoundTimer);
        Assert.Equal(4, context.Sent.Count); // nothing new to say
    }

    [Fact]
    public void With_no_neighbour_the_store_is_kept_for_a_later_round()
    {
        var node = GossipEngine.CreateV1(Interval);
        var context = new RecordingContext(self: 0);
        node.NeighbourUp(context, 1);
        node.NeighbourDown(context, 1);
        node.Publish(context, new MessageId(0, 0), 100);
        node.Timer(context, V1FloodProtocol.RoundTimer);
        Assert.Empty(context.Sent);
        Assert.Equal(1, node.Flood!.PendingLines);

        node.NeighbourUp(context, 3);
        node.Timer(context, V1FloodProtocol.RoundTimer);
        Assert.Equal(3, Assert.Single(context.Sent).Neighbour);
    }

    [Fact]
    public void A_new_message_costs_one_verification_and_is_delivered_with_its_hop_count_copies_and_old_seqs_cost_none()
    {
        var node = GossipEngine.CreateV1(Interval);
        var context = new RecordingContext(self: 0);
        node.FrameReceived(context, 1, Line(author: 5, seq: 3, hops: 4));
        Assert.Equal(1, context.Verifies);
        Assert.Equal((new MessageId(5, 3), 4), Assert.Single(context.Delivered));

        node.FrameReceived(context, 2, Line(author: 5, seq: 3, hops: 2)); // a copy
        node.FrameReceived(context, 2, Line(author: 5, seq: 1, hops: 2)); // older: lost for good in v1
        node.FrameReceived(context, 2, Line(author: 0, seq: 9, hops: 2)); // our own, come back
        Assert.Equal(1, context.Verifies);
        Assert.Single(context.Delivered);

        node.FrameReceived(context, 2, Line(author: 5, seq: 4, hops: 1));
        node.FrameReceived(context, 2, Line(author: 6, seq: 0, hops: 1));
        Assert.Equal(3, context.Verifies);
        Assert.Equal(3, context.Delivered.Count);
        Assert.Equal(3, node.Flood!.PendingLines);
    }

    [Fact]
    public void A_forwarded_line_carries_one_more_hop()
    {
        var node = GossipEngine.CreateV1(Interval);
        var context = new RecordingContext(self: 0);
        node.NeighbourUp(context, 1);
        node.FrameReceived(context, 1, Line(author: 5, seq: 0, hops: 4));
        node.Timer(context, V1FloodProtocol.RoundTimer);

        var next = GossipEngine.CreateV1(Interval);
        var nextContext = new RecordingContext(self: 1);
        next.FrameReceived(nextContext, 0, context.Sent[0].Frame);
        Assert.Equal(5, Assert.Single(nextContext.Delivered).Hops);
    }

    /// <summary>A line as another v1 node would have sent it: published, relayed hops − 1 times.</summary>
    private static IGossipFrame Line(int author, long seq, int hops)
    {
        var relay = GossipEngine.CreateV1(Interval);
        var context = new RecordingContext(self: -1);
        relay.NeighbourUp(context, 0);
        if (hops == 1)
        {
            var publisher = GossipEngine.CreateV1(Interval);
            var publisherContext = new RecordingContext(self: author);
            publisher.NeighbourUp(publisherContext, 0);
            publisher.Publish(publisherContext, new MessageId(author, seq), 100);
            publisher.Timer(publisherContext, V1FloodProtocol.RoundTimer);
            return publisherContext.Sent[0].Frame;
        }

        relay.FrameReceived(context, 0, Line(author, seq, hops - 1));
        relay.Timer(context, V1FloodProtocol.RoundTimer);
        return context.Sent[0].Frame;
    }
}
