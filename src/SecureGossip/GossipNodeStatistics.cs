namespace SecureGossip;

/// <summary>A snapshot of what a <see cref="GossipNode"/> has seen since it started.</summary>
public readonly record struct GossipNodeStatistics
{
    /// <summary>Lines read from all peers.</summary>
    public long LinesReceived { get; init; }

    /// <summary>Messages accepted and delivered (new author/seq with a valid signature).</summary>
    public long MessagesAccepted { get; init; }

    /// <summary>Accepted messages handed to the application (after the store's commit, when there is a store).</summary>
    public long MessagesDelivered { get; init; }

    /// <summary>Bytes read from peers, after decryption on a private network.</summary>
    public long BytesReceived { get; init; }

    /// <summary>Messages this node published.</summary>
    public long MessagesPublished { get; init; }

    /// <summary>Lines written to peers.</summary>
    public long LinesSent { get; init; }

    /// <summary>Bytes written to peers (lines and their newlines).</summary>
    public long BytesSent { get; init; }

    /// <summary>Lines dropped because they were not JSON, too deep, or not a message.</summary>
    public long DroppedMalformed { get; init; }

    /// <summary>Lines dropped because they exceeded the line limit.</summary>
    public long DroppedTooLong { get; init; }

    /// <summary>Lines dropped because the key or signature did not decode or verify.</summary>
    public long DroppedBadSignature { get; init; }

    /// <summary>Messages dropped because they were signed for another topic (<see cref="Protocol.DropReason.WrongTopic"/>).</summary>
    public long DroppedWrongTopic { get; init; }

    /// <summary>
    /// Links closed because the peer is on another topic: its hello named another, or (on a topic other than the
    /// default) it sent no hello, or a message line before it (docs/PROTOCOL.md §20).
    /// </summary>
    public long TopicMismatches { get; init; }

    /// <summary>Own messages that came back.</summary>
    public long DroppedOwn { get; init; }

    /// <summary>Messages whose seq was not above the author's highest (duplicates and replays).</summary>
    public long DroppedOld { get; init; }

    /// <summary>Protocol v2 frames received (hellos included); they are never taken for messages.</summary>
    public long V2FramesReceived { get; init; }

    /// <summary>Signatures verified.</summary>
    public long SignaturesVerified { get; init; }

    /// <summary>Peers cut for exceeding a budget of <see cref="GossipNodeOptions.Defences"/> or misbehaving (their addresses are backed off).</summary>
    public long PeersCut { get; init; }

    /// <summary>
    /// Connections refused before the protocol (<see cref="GossipLinkOptions.Middleware"/>): a secret handshake that
    /// failed (another network, another key than dialled, a key outside the allow-list, a forged proof), or that took
    /// longer than <see cref="GossipLinkOptions.HandshakeTimeout"/>. Each is logged with its reason (rate-limited).
    /// </summary>
    public long HandshakesRefused { get; init; }

    /// <summary>
    /// Secured links (secret handshake and box-stream) ended because a box did not open: bytes changed, dropped,
    /// replayed or reordered between the nodes, or another key. Each is logged with the link's end.
    /// </summary>
    public long SecuredLinksBroken { get; init; }

    /// <summary>Membership neighbours that came up (joined the active view), since the node started (docs/PROTOCOL.md §19).</summary>
    public long NeighboursUp { get; init; }

    /// <summary>Membership neighbours that went down (failed, or dropped by either side).</summary>
    public long NeighboursDown { get; init; }

    /// <summary>Membership frames dropped because their link sent more than <see cref="GossipMembershipOptions.MaxFramesPerSecond"/>.</summary>
    public long MembershipFramesDropped { get; init; }

    /// <summary>Author keys forgotten because the table reached <see cref="GossipDefenceOptions.MaxAuthors"/>.</summary>
    public long AuthorsForgotten { get; init; }

    /// <summary>Group commits of the store (each makes a batch of accepted messages durable before they are delivered).</summary>
    public long StoreCommits { get; init; }

    /// <summary>How long the last group commit took, in milliseconds: what a store adds to delivery latency.</summary>
    public double StoreLagMilliseconds { get; init; }

    /// <summary>The protocol v2 core's counters and table sizes (null in v1 mode).</summary>
    public Protocol.Core.PlumtreeStatistics? Core { get; init; }

    /// <summary>Peers connected now.</summary>
    public int ConnectedPeers { get; init; }

    /// <summary>Messages taken in and not yet committed (verifying, or waiting their turn): the receive backlog.</summary>
    public int ReceiveBacklog { get; init; }

    /// <summary>The most messages the backlog holds (<see cref="GossipReceiveOptions.MaxInFlight"/>); at it, the node stops reading from its peers.</summary>
    public int ReceiveCapacity { get; init; }
}
