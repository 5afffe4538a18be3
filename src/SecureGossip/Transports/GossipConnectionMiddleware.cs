namespace SecureGossip.Transports;

/// <summary>
/// A step every connection passes through before the gossip protocol sees it, in the manner of Kestrel's connection
/// middleware: a handshake, encryption, authentication (<see cref="GossipLinkOptions.Middleware"/>). It returns the
/// connection the protocol is to use: the same one, after an exchange of its own, or a new one wrapping it.
/// </summary>
/// <remarks>
/// <para>A middleware that wraps returns a connection whose <see cref="GossipConnection.DisposeAsync"/> disposes the
/// one it wraps, and whose <see cref="GossipConnection.Closed"/> fires when the wrapped one closes. The node disposes
/// the connection the last middleware returned; if a middleware throws, the node disposes the connection it was given.</para>
/// <para>It runs within <see cref="GossipLinkOptions.HandshakeTimeout"/>: <paramref name="cancellationToken"/> is
/// cancelled then, and when the node stops or the connection closes. A middleware that throws refuses the connection
/// (an authentication that failed): the link never comes up, and the reason is logged.</para>
/// </remarks>
/// <param name="connection">The connection as the transport (or the previous middleware) produced it.</param>
/// <param name="cancellationToken">Cancelled when the handshake must end.</param>
public delegate ValueTask<GossipConnection> GossipConnectionMiddleware(GossipConnection connection, CancellationToken cancellationToken);
