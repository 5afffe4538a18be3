using SecureGossip.Protocol.Core;

namespace SecureGossip.Protocol.Membership;

/// <summary>A HyParView frame (docs/PROTOCOL.md §19). Peers are named as the driver names them.</summary>
/// <typeparam name="TPeer">The driver's peer name.</typeparam>
public abstract record MembershipFrame<TPeer> : IGossipFrame
    where TPeer : notnull
{
    /// <summary>Bytes a peer's name takes on the wire (a key and an address), for the simulator's byte counts.</summary>
    protected const int PeerBytes = 96;

    /// <inheritdoc/>
    public virtual int SizeBytes => 32;

    /// <inheritdoc/>
    public int PayloadCount => 0;
}

/// <summary>"Take me as a neighbour; I am new": sent to a contact, which always accepts and walks the news on.</summary>
public sealed record JoinFrame<TPeer> : MembershipFrame<TPeer>
    where TPeer : notnull;

/// <summary>A join being walked: <paramref name="Peer"/> joined; <paramref name="Ttl"/> steps are left.</summary>
public sealed record ForwardJoinFrame<TPeer>(TPeer Peer, int Ttl) : MembershipFrame<TPeer>
    where TPeer : notnull
{
    /// <inheritdoc/>
    public override int SizeBytes => 40 + PeerBytes;
}

/// <summary>
/// "Take me as a neighbour": <paramref name="High"/> when the sender has no neighbour at all (then the receiver
/// must accept, dropping another if full), else accepted only if there is room.
/// </summary>
public sealed record NeighbourFrame<TPeer>(bool High) : MembershipFrame<TPeer>
    where TPeer : notnull;

/// <summary>The answer to a <see cref="NeighbourFrame{TPeer}"/>.</summary>
public sealed record NeighbourReplyFrame<TPeer>(bool Accepted) : MembershipFrame<TPeer>
    where TPeer : notnull;

/// <summary>"You are no longer my neighbour" (I made room for another); the receiver keeps the sender in reserve.</summary>
public sealed record DisconnectFrame<TPeer> : MembershipFrame<TPeer>
    where TPeer : notnull;

/// <summary>A sample of <paramref name="Origin"/>'s views, walked <paramref name="Ttl"/> more steps, then answered.</summary>
public sealed record ShuffleFrame<TPeer>(TPeer Origin, TPeer[] Peers, int Ttl) : MembershipFrame<TPeer>
    where TPeer : notnull
{
    /// <inheritdoc/>
    public override int SizeBytes => 40 + (PeerBytes * (Peers.Length + 1));
}

/// <summary>The answer to a shuffle: as many entries of the answerer's passive view.</summary>
public sealed record ShuffleReplyFrame<TPeer>(TPeer[] Peers) : MembershipFrame<TPeer>
    where TPeer : notnull
{
    /// <inheritdoc/>
    public override int SizeBytes => 32 + (PeerBytes * Peers.Length);
}
