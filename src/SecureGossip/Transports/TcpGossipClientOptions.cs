namespace SecureGossip.Transports;

/// <summary>
/// How <see cref="TcpGossipClient"/> keeps a link up: its reconnect backoff, exponential with jitter (Polly's
/// decorrelated jitter), and its connect timeout. The defaults suit a LAN or the internet alike.
/// </summary>
public sealed class TcpGossipClientOptions
{
    /// <summary>
    /// The median first wait before dialling again: 100 ms (<see cref="TcpGossipClient.InitialBackoff"/>). Short, so a
    /// neighbour that restarts is back within a blink; long enough that a refused port is not hammered.
    /// </summary>
    public TimeSpan InitialBackoff { get; set; } = TcpGossipClient.InitialBackoff;

    /// <summary>
    /// The longest wait between attempts: 5 s (<see cref="TcpGossipClient.MaxBackoff"/>). A healed partition or a
    /// restarted neighbour is found again within this, while a peer that is gone costs one attempt per 5 s.
    /// </summary>
    public TimeSpan MaxBackoff { get; set; } = TcpGossipClient.MaxBackoff;

    /// <summary>
    /// How long one connection attempt may take: 5 s (<see cref="TcpGossipClient.ConnectTimeout"/>). Without it an
    /// attempt to a blackholed address waits for the kernel's SYN retries, about two minutes, and a healed partition
    /// would wait that long too.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TcpGossipClient.ConnectTimeout;

    /// <summary>
    /// A link that stayed up this long resets the backoff to <see cref="InitialBackoff"/>: 10 s
    /// (<see cref="TcpGossipClient.StableLink"/>). A peer that accepts and drops at once is thus retried ever more
    /// slowly instead of in a tight loop.
    /// </summary>
    public TimeSpan StableLink { get; set; } = TcpGossipClient.StableLink;

    /// <summary>
    /// Where the jitter comes from; <see langword="null"/> (the default) uses <see cref="Random.Shared"/>. Give a
    /// seeded <see cref="Random"/> to replay the same delays (tests, simulations); it may be shared between clients.
    /// </summary>
    public Random? Random { get; set; }

    /// <summary>
    /// The long-term ed25519 key (32 bytes) the node at this address must prove, for a private network's secret
    /// handshake (<see cref="SecretHandshakeMiddleware"/>); it is set on each connection as
    /// <see cref="GossipConnection.PeerKey"/>. <see langword="null"/> (the default) for a plain link.
    /// </summary>
    public byte[]? PeerKey { get; set; }

    /// <summary>The longest backoff Polly accepts.</summary>
    private static readonly TimeSpan s_longestBackoff = TimeSpan.FromDays(1);

    /// <summary>
    /// Throws if a value is out of range: a backoff not positive or over a day, a maximum below its minimum, a
    /// connect timeout not positive (<see cref="Timeout.InfiniteTimeSpan"/> is allowed), a negative stable link.
    /// </summary>
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(InitialBackoff, TimeSpan.Zero, nameof(InitialBackoff));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBackoff, InitialBackoff, nameof(MaxBackoff));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxBackoff, s_longestBackoff, nameof(MaxBackoff));
        if (ConnectTimeout != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero, nameof(ConnectTimeout));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(StableLink, TimeSpan.Zero, nameof(StableLink));
        if (PeerKey is { Length: not 32 })
        {
            throw new ArgumentException($"A peer key is a 32-byte ed25519 key, not {PeerKey.Length} bytes.", nameof(PeerKey));
        }
    }
}
