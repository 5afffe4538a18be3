namespace SecureGossip.Storage;

/// <summary>
/// A store that also keeps a membership node's known peers (its views, docs/PROTOCOL.md §19), so that after a restart it
/// rejoins through the peers it knew before its bootstrap addresses. <see cref="GossipNode"/> uses it when its
/// <see cref="GossipNodeOptions.Store"/> implements it and <see cref="GossipNodeOptions.Membership"/> is set.
/// </summary>
/// <remarks>Called from the node's membership loop while the node runs; an implementation locks against its other callers.</remarks>
public interface IGossipPeerStore
{
    /// <summary>The peers saved last (addresses as nodes advertise them), or none.</summary>
    IReadOnlyList<string> LoadPeers();

    /// <summary>Replaces the saved peers with <paramref name="peers"/>, durably.</summary>
    void SavePeers(IReadOnlyList<string> peers);
}
