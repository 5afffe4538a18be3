using SecureGossip.Transports;

namespace SecureGossip;

/// <summary>
/// The node as transports see it: the handler a <see cref="TcpGossipListener"/> yields connections to and a
/// <see cref="TcpGossipClient"/> keeps one up through, so transports need nothing of the node but this.
/// </summary>
public sealed partial class GossipNode : IGossipConnectionHandler
{
    // RunConnectionAsync(GossipConnection, CancellationToken) and BackedOffFor(IPAddress) are the node's own public
    // methods and implement the interface as they are.

    /// <inheritdoc/>
    bool IGossipConnectionHandler.IsStopped => IsDisposed;

    /// <inheritdoc/>
    GossipDefenceOptions IGossipConnectionHandler.Defences => Options.Defences;
}
