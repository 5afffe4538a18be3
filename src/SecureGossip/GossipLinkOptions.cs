namespace SecureGossip;

/// <summary>
/// How a <see cref="GossipNode"/> keeps its links alive and notices dead ones (<see cref="GossipNodeOptions.Links"/>).
/// A link that fails or goes silent is closed, and a link kept up by <see cref="Transports.TcpGossipClient"/> is
/// dialled again; the defaults notice a dead v2 link within <see cref="IdleTimeout"/> (10 s).
/// </summary>
public sealed class GossipLinkOptions
{
    /// <summary>
    /// How long a new connection waits for the peer's protocol v2 hello before treating it as a v1 (JS) peer
    /// (default 1 s: a hello is the first line a v2 peer writes, so it arrives within a round trip).
    /// </summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A v2 link on which nothing was written for this long gets a keepalive frame (<c>{"sg2":"ping"}</c>, 14 bytes;
    /// default 3 s, so a healthy idle link always hears from its peer well within <see cref="IdleTimeout"/>).
    /// Links to v1 peers get none: they carry nothing a 0.3.1 peer did not send.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// A v2 link that received nothing (no frame, no keepalive) for this long is dead and is closed (default 10 s:
    /// a path blackholed by a NAT that forgot it, or a peer that stopped). v1 peers are silent when they have
    /// nothing to say, so their links rely on the transport (TCP keepalive) and <see cref="WriteTimeout"/>.
    /// <see cref="Timeout.InfiniteTimeSpan"/> turns the check off.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A write to a peer that makes no progress for this long (a peer that stopped reading, a stalled path) closes
    /// the link (default 10 s). <see cref="Timeout.InfiniteTimeSpan"/> turns the check off.
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// When a link ends, how long the node waits for its write loop to stop before it closes the transport under it
    /// (default 5 s): a transport that ignores cancellation cannot hold a link open.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// When a link ends, how long the node waits for its transport to close (default 10 s) before it ends the link
    /// without it and logs why: a transport that hangs while closing cannot keep a link (and the node's shutdown) waiting.
    /// </summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often links are checked for keepalives due, silence and stuck writes, and the status line for being due
    /// (default 1 s, or half the keepalive interval when that is shorter).
    /// </summary>
    public TimeSpan SupervisionInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Steps every connection passes through, in order, before the gossip protocol sees it: a handshake, encryption,
    /// authentication (<see cref="Transports.GossipConnectionMiddleware"/>). Empty by default: the protocol speaks on
    /// the connection as the transport produced it.
    /// </summary>
    public IList<Transports.GossipConnectionMiddleware> Middleware { get; } = [];

    /// <summary>
    /// How long the <see cref="Middleware"/> may take on one connection (default 10 s) before the connection is
    /// closed: a peer that connects and then says nothing cannot hold a connection slot through a handshake.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    internal void Validate()
    {
        Positive(HelloTimeout, nameof(HelloTimeout), allowInfinite: false);
        Positive(KeepAliveInterval, nameof(KeepAliveInterval), allowInfinite: true);
        Positive(IdleTimeout, nameof(IdleTimeout), allowInfinite: true);
        Positive(WriteTimeout, nameof(WriteTimeout), allowInfinite: true);
        Positive(DrainTimeout, nameof(DrainTimeout), allowInfinite: false);
        Positive(CloseTimeout, nameof(CloseTimeout), allowInfinite: false);
        Positive(HandshakeTimeout, nameof(HandshakeTimeout), allowInfinite: false);
        Positive(SupervisionInterval, nameof(SupervisionInterval), allowInfinite: false);
        if (IdleTimeout != Timeout.InfiniteTimeSpan && (KeepAliveInterval == Timeout.InfiniteTimeSpan || KeepAliveInterval * 2 > IdleTimeout))
        {
            throw new ArgumentOutOfRangeException(
                $"{nameof(GossipNodeOptions.Links)}.{nameof(KeepAliveInterval)}",
                KeepAliveInterval,
                $"The keepalive interval must be at most half of Links.IdleTimeout ({IdleTimeout}), or a healthy idle link would be taken for a dead one.");
        }
    }

    private static void Positive(TimeSpan value, string name, bool allowInfinite)
    {
        if (value <= TimeSpan.Zero && !(allowInfinite && value == Timeout.InfiniteTimeSpan))
        {
            throw new ArgumentOutOfRangeException(
                $"{nameof(GossipNodeOptions.Links)}.{name}",
                value,
                allowInfinite ? "Must be positive, or Timeout.InfiniteTimeSpan to turn it off." : "Must be positive.");
        }
    }
}
