namespace SecureGossip;

/// <summary>The protocol a <see cref="GossipNode"/> speaks (<see cref="GossipNodeOptions.Protocol"/>).</summary>
public enum GossipProtocol
{
    /// <summary>
    /// secure-gossip 0.3.1 exactly: flooding on rounds, the unsigned seq rule, no hello, nothing for late joiners.
    /// The compatibility mode.
    /// </summary>
    V1 = 1,

    /// <summary>
    /// Protocol v2 (docs/PROTOCOL.md) with every peer that says hello, v1 with the others: trees, acceptance by id,
    /// catch-up for late joiners and healed partitions. The default.
    /// </summary>
    V2 = 2,
}
