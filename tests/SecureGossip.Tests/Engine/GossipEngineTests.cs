using SecureGossip.Engine;
using SecureGossip.Protocol.Core;
using SecureGossip.Protocol.Flood;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Engine;

/// <summary>
/// The engine's acceptance, the part the real node's actor and the simulator share: admitted before verification,
/// committed in arrival order, each message accepted once, handed to the module of each kind of link.
/// </summary>
public sealed class GossipEngineTests
{
    private static readonly byte[] LineBytes = "{\"data\":{},\"public\":\"k\",\"seq\":0}"u8.ToArray();

    [Fact]
    public void A_copy_admitted_while_the_first_is_verified_waits_and_is_a_duplicate_once_the_first_is_accepted()
    {
        var engine = new GossipEngine(tree: null, flood: true);
        var context = new RecordingGossipContext { Neighbours = [1, 2] };
        engine.LinkUp(context, 1, 1);
        engine.LinkUp(context, 2, 1);
        var first = Message(author: 5, seq: 0);

        Assert.Equal(Admission.Verify, engine.Admit(context, 1, first));
        Assert.Equal(Admission.Wait, engine.Admit(context, 2, first)); // never verified while the first is
        Assert.Equal(Outcome.Accepted, engine.Commit(context, 1, first, valid: true, claimed: true));
        Assert.True(engine.IsDuplicate(first));
        Assert.Equal(Outcome.Duplicate, engine.Commit(context, 2, first, valid: true, claimed: false));
        Assert.Equal(Admission.Duplicate, engine.Admit(context, 2, first));
        Assert.Equal([first.Id], context.Delivered);
        Assert.Equal(1, engine.Flood!.PendingLines); // accepted once, so flooded once
    }

    [Fact]
    public void The_flood_keeps_lines_only_while_a_v1_link_or_no_link_at_all_may_read_them()
    {
        var engine = new GossipEngine(new PlumtreeOptions(), flood: true);
        var context = new RecordingGossipContext { Neighbours = [1] };

        Accept(engine, context, link: null, Message(author: 5, seq: 0));
        Assert.Equal(1, engine.Flood!.PendingLines); // alone: kept for the first link

        engine.LinkUp(context, 1, 1); // v1 until its hello
        Accept(engine, context, link: 1, Message(author: 5, seq: 1));
        Assert.Equal(2, engine.Flood.PendingLines);

        engine.LinkUp(context, 1, 2); // the hello: every link speaks v2
        engine.Round(context);
        Accept(engine, context, link: 1, Message(author: 5, seq: 2, onV2: true));
        Assert.Equal(0, engine.Flood.PendingLines); // no round would send it anywhere
        Assert.Equal(3, context.Delivered.Count);
    }

    [Fact]
    public void A_forged_first_copy_releases_its_claim_so_the_next_copy_is_verified_and_accepted()
    {
        var engine = new GossipEngine(tree: null, flood: true);
        var context = new RecordingGossipContext { Neighbours = [1, 2] };
        var message = Message(author: 5, seq: 0);
        Assert.Equal(Admission.Verify, engine.Admit(context, 1, message));
        Assert.Equal(Admission.Wait, engine.Admit(context, 2, message));

        Assert.Equal(Outcome.Invalid, engine.Commit(context, 1, message, valid: false, claimed: true));
        Assert.False(engine.IsDuplicate(message));
        Assert.Equal(Outcome.Accepted, engine.Commit(context, 2, message, valid: true, claimed: false));
        Assert.Single(context.Delivered);
        Assert.Equal(Admission.Verify, engine.Admit(context, 1, Message(author: 5, seq: 1)));
    }

    [Fact]
    public void Own_messages_are_never_verified_and_ids_seen_before_a_restart_are_duplicates()
    {
        var engine = new GossipEngine(tree: null, flood: true);
        var context = new RecordingGossipContext();
        Assert.Equal(Admission.Own, engine.Admit(context, 1, Message(author: context.Self, seq: 3)));

        var stored = Message(author: 7, seq: 9);
        engine.MarkSeen(stored.Id.Digest);
        Assert.Equal(Admission.Duplicate, engine.Admit(context, 1, stored));
        Assert.Empty(context.Delivered);
    }

    [Fact]
    public void Under_the_v1_seq_rule_a_seq_not_above_the_highest_is_old_as_in_secure_gossip_0_3_1()
    {
        var engine = new GossipEngine(tree: null, flood: true, deduplicateById: false);
        var context = new RecordingGossipContext();
        var three = Message(author: 5, seq: 3);
        Assert.Equal(Admission.Verify, engine.Admit(context, 1, three));
        Assert.Equal(Outcome.Accepted, engine.Commit(context, 1, three, valid: true, claimed: true));

        Assert.Equal(Admission.Duplicate, engine.Admit(context, 1, Message(author: 5, seq: 2))); // another message, lower seq
        Assert.Equal(Admission.Duplicate, engine.Admit(context, 1, Message(author: 5, seq: double.NaN))); // !(3 < NaN)
        Assert.Equal(Admission.Verify, engine.Admit(context, 1, Message(author: 5, seq: 4)));
        Assert.Equal(Admission.Verify, engine.Admit(context, 1, Message(author: 6, seq: 0))); // per author

        engine.ForgetAuthor(5);
        Assert.Equal(Admission.Verify, engine.Admit(context, 1, Message(author: 5, seq: 1)));
    }

    [Fact]
    public void Under_the_v1_seq_rule_one_signature_under_two_seqs_is_two_messages_verified_side_by_side()
    {
        // A JS author publishing the same payload twice signs it the same way: one id, two seqs, two messages in v1.
        var engine = new GossipEngine(tree: null, flood: true, deduplicateById: false);
        var context = new RecordingGossipContext();
        MessageId id = RecordingGossipContext.Id(5, 0);
        var first = new InboundMessage(id, 0, new V1Line(id, LineBytes));
        var second = new InboundMessage(id, 1, new V1Line(id, LineBytes));

        Assert.Equal(Admission.Verify, engine.Admit(context, 1, first));
        Assert.Equal(Admission.Verify, engine.Admit(context, 1, second)); // not held behind the first: both verify at once
        Assert.Equal(Admission.Wait, engine.Admit(context, 2, second)); // a true copy still waits
        Assert.Equal(Outcome.Accepted, engine.Commit(context, 1, first, valid: true, claimed: true));
        Assert.Equal(Outcome.Accepted, engine.Commit(context, 1, second, valid: true, claimed: true));
        Assert.Equal(2, context.Delivered.Count);

        // Accepting by id (v2, a store), the second is the first again.
        var byId = new GossipEngine(tree: null, flood: true);
        Assert.Equal(Admission.Verify, byId.Admit(context, 1, first));
        Assert.Equal(Admission.Wait, byId.Admit(context, 1, second));
    }

    [Fact]
    public void On_a_node_with_both_kinds_of_link_an_accepted_message_goes_to_the_tree_and_to_the_next_round()
    {
        var engine = new GossipEngine(new PlumtreeOptions(), flood: true);
        var context = new RecordingGossipContext { Neighbours = [1, 2, 3] };
        engine.Start(context);
        engine.LinkUp(context, 1, 1); // a JS peer
        engine.LinkUp(context, 2, 1);
        engine.LinkUp(context, 2, 2); // said hello: now v2
        engine.LinkUp(context, 3, 2);
        context.Sent.Clear();

        var message = Message(author: 9, seq: 0, onV2: true);
        Assert.Equal(Admission.Verify, engine.Admit(context, 3, message));
        Assert.Equal(Outcome.Accepted, engine.Commit(context, 3, message, valid: true, claimed: true));
        Assert.Contains(context.SentTo(2), f => f is PlumtreeMessage m && m.Message == message.Id); // pushed on the tree at once
        Assert.DoesNotContain(context.Sent, s => s.To == 1); // the v1 peer waits for the round

        engine.Round(context);
        var line = Assert.IsType<V1Line>(Assert.Single(context.SentTo(1)));
        Assert.Same(LineBytes, line.Line); // forwarded as the bytes it arrived as
        Assert.DoesNotContain(context.SentTo(2), f => f is V1Line); // v2 links never get rounds
    }

    [Fact]
    public void The_simulators_entry_point_admits_verifies_once_and_commits_through_the_same_calls()
    {
        GossipEngine engine = GossipEngine.CreateV1(TimeSpan.FromMilliseconds(100));
        var context = new RecordingGossipContext { Neighbours = [1, 2] };
        engine.NeighbourUp(context, 1);
        engine.NeighbourUp(context, 2);
        var line = new V1Line(RecordingGossipContext.Id(4, 0), payloadBytes: 100, hops: 2);
        engine.FrameReceived(context, 1, line);
        engine.FrameReceived(context, 2, line); // the copy
        Assert.Equal(1, context.Verifies);
        Assert.Equal([line.Message], context.Delivered);
    }

    private static void Accept(GossipEngine engine, RecordingGossipContext context, int? link, InboundMessage message)
    {
        Assert.Equal(Admission.Verify, engine.Admit(context, link, message));
        Assert.Equal(Outcome.Accepted, engine.Commit(context, link, message, valid: true, claimed: true));
    }

    private static InboundMessage Message(int author, double seq, bool onV2 = false)
    {
        MessageId id = RecordingGossipContext.Id(author, double.IsNaN(seq) ? 1_000 : (long)seq);
        IGossipPayloadFrame frame = onV2
            ? new PlumtreeMessage(id, LineBytes.Length, PlumtreeSendKind.Eager, 1, true) { Line = LineBytes }
            : new V1Line(id, LineBytes);
        return new InboundMessage(id, seq, frame);
    }
}
