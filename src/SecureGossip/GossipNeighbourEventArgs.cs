namespace SecureGossip;

/// <summary>A membership neighbour came up or went down (<see cref="GossipNode.NeighbourChanged"/>).</summary>
/// <param name="Address">The neighbour's advertised address (<see cref="Transports.PeerAddress"/> text).</param>
/// <param name="Up">True when it joined the node's active view, false when it left it (failed, or either side dropped it).</param>
public sealed record GossipNeighbourEventArgs(string Address, bool Up)
{
    /// <summary>The topic whose overlay the neighbour is in (each topic has its own, docs/PROTOCOL.md §20).</summary>
    public GossipTopic Topic { get; init; } = GossipTopic.Default;
}
