namespace SecureGossip.Engine;

/// <summary>A node's counters: written with <see cref="Interlocked"/> from any thread, read as one snapshot.</summary>
internal sealed class NodeCounters
{
    public long LinesReceived;

    /// <summary>Lines received and sent, by <see cref="Diagnostics.FrameKinds"/>.</summary>
    public readonly long[] FramesIn = new long[Diagnostics.FrameKinds.Kinds];
    public readonly long[] FramesOut = new long[Diagnostics.FrameKinds.Kinds];
    public long BytesReceived;
    public long MessagesDelivered;
    public long MessagesAccepted;
    public long MessagesPublished;
    public long LinesSent;
    public long BytesSent;
    public long DroppedMalformed;
    public long DroppedTooLong;
    public long DroppedBadSignature;
    public long DroppedWrongTopic;
    public long TopicMismatches;
    public long DroppedOwn;
    public long DroppedOld;
    public long SignaturesVerified;

    /// <summary>Of <see cref="SignaturesVerified"/>, those the actor ran itself while the verifiers were behind.</summary>
    public long VerifiedOnActor;
    public long V2FramesReceived;
    public long PeersCut;
    public long HandshakesRefused;
    public long NeighboursUp;
    public long NeighboursDown;
    public long MembershipFramesDropped;
    public long SecuredLinksBroken;
    public long AuthorsForgotten;
    public long StoreCommits;
    public long StoreLagTicks;

    public GossipNodeStatistics Snapshot(int peers, TimeProvider time, Protocol.Core.PlumtreeStatistics? core) => new()
    {
        LinesReceived = Volatile.Read(ref LinesReceived),
        BytesReceived = Volatile.Read(ref BytesReceived),
        MessagesDelivered = Volatile.Read(ref MessagesDelivered),
        MessagesAccepted = Volatile.Read(ref MessagesAccepted),
        MessagesPublished = Volatile.Read(ref MessagesPublished),
        LinesSent = Volatile.Read(ref LinesSent),
        BytesSent = Volatile.Read(ref BytesSent),
        DroppedMalformed = Volatile.Read(ref DroppedMalformed),
        DroppedTooLong = Volatile.Read(ref DroppedTooLong),
        DroppedBadSignature = Volatile.Read(ref DroppedBadSignature),
        DroppedWrongTopic = Volatile.Read(ref DroppedWrongTopic),
        TopicMismatches = Volatile.Read(ref TopicMismatches),
        DroppedOwn = Volatile.Read(ref DroppedOwn),
        DroppedOld = Volatile.Read(ref DroppedOld),
        SignaturesVerified = Volatile.Read(ref SignaturesVerified),
        V2FramesReceived = Volatile.Read(ref V2FramesReceived),
        PeersCut = Volatile.Read(ref PeersCut),
        HandshakesRefused = Volatile.Read(ref HandshakesRefused),
        NeighboursUp = Volatile.Read(ref NeighboursUp),
        NeighboursDown = Volatile.Read(ref NeighboursDown),
        MembershipFramesDropped = Volatile.Read(ref MembershipFramesDropped),
        SecuredLinksBroken = Volatile.Read(ref SecuredLinksBroken),
        AuthorsForgotten = Volatile.Read(ref AuthorsForgotten),
        StoreCommits = Volatile.Read(ref StoreCommits),
        StoreLagMilliseconds = Volatile.Read(ref StoreLagTicks) * 1000.0 / time.TimestampFrequency,
        Core = core,
        ConnectedPeers = peers,
    };

    /// <summary>Counts a dropped line or frame under its reason.</summary>
    public void Drop(Protocol.DropReason why)
    {
        switch (why)
        {
            case Protocol.DropReason.Own:
                Interlocked.Increment(ref DroppedOwn);
                break;
            case Protocol.DropReason.Old:
                Interlocked.Increment(ref DroppedOld);
                break;
            case Protocol.DropReason.BadKey or Protocol.DropReason.BadSignature:
                Interlocked.Increment(ref DroppedBadSignature);
                break;
            case Protocol.DropReason.WrongTopic:
                Interlocked.Increment(ref DroppedWrongTopic);
                break;
            default:
                Interlocked.Increment(ref DroppedMalformed);
                break;
        }
    }
}
