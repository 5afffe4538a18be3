using System.Net;

namespace SecureGossip.Transports;

/// <summary>
/// What a transport hands its connections to, so that transports know nothing of the gossip node: a listener
/// yields each accepted connection to <see cref="RunConnectionAsync"/>, a client keeps one connection up through it.
/// The gossip node is one; a test double, or a wrapper that runs a handshake before handing the connection on, is another.
/// </summary>
public interface IGossipConnectionHandler
{
    /// <summary>
    /// Runs one link until it ends: the connection closes (<see cref="GossipConnection.Closed"/>, which includes
    /// <see cref="GossipConnection.Abort"/>), the token is cancelled or the handler stops. The handler owns
    /// <paramref name="connection"/> from the call on and disposes it before the task completes.
    /// </summary>
    /// <remarks>
    /// It completes normally whatever the link did; a transport dials again (or accepts the next) at once.
    /// </remarks>
    /// <exception cref="ObjectDisposedException">The handler is stopped (the connection is disposed too).</exception>
    Task RunConnectionAsync(GossipConnection connection, CancellationToken cancellationToken = default);

    /// <summary>
    /// How much longer <paramref name="address"/> is backed off: <see cref="TimeSpan.Zero"/> when it may connect and
    /// be dialled. A listener refuses connections from a backed-off address; a client waits before dialling it.
    /// </summary>
    TimeSpan BackedOffFor(IPAddress address);

    /// <summary>The handler is disposed: a listener stops accepting and a client stops dialling.</summary>
    bool IsStopped { get; }

    /// <summary>The inbound limits a listener applies (connection caps); read once when serving starts.</summary>
    GossipDefenceOptions Defences { get; }
}
