namespace SecureGossip.Transports;

/// <summary>
/// Which end opened a <see cref="GossipConnection"/>. A handshake needs it: the end that dialled speaks first, as
/// in Secure Scuttlebutt's secret handshake, where the client proves it knows the server's key.
/// </summary>
public enum GossipConnectionDirection
{
    /// <summary>The neighbour opened it (a listener accepted it). The default, also for in-memory links, which have no initiator.</summary>
    Inbound,

    /// <summary>This end opened it (a client dialled out).</summary>
    Outbound,
}
