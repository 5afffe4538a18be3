namespace SecureGossip.Hosting;

/// <summary>
/// What <see cref="SecureGossipServiceCollectionExtensions.AddSecureGossip(Microsoft.Extensions.DependencyInjection.IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration, Action{SecureGossipHostOptions}?)"/>
/// runs, bindable from configuration (a section such as <c>"SecureGossip"</c> in <c>appsettings.json</c>): the same
/// choices as <c>sgossip node</c>'s options.
/// </summary>
public sealed class SecureGossipHostOptions
{
    /// <summary>The ssb-keys secret file of the node's identity; created if missing. Null: a fresh key at each start.</summary>
    public string? KeysPath { get; set; }

    /// <summary>TCP addresses to accept peers on, <c>HOST:PORT</c> (port 0 picks a free port).</summary>
    public IList<string> Listen { get; } = [];

    /// <summary>Peers to keep a link to, <c>HOST:PORT</c> (or <c>@KEY.ed25519@HOST:PORT</c> on a private network), redialled with backoff.</summary>
    public IList<string> Connect { get; } = [];

    /// <summary>
    /// Join a self-organising network through these nodes (docs/PROTOCOL.md §19). Membership is on when this has an
    /// address or <see cref="Membership"/> is set; a node with membership and no bootstrap address is the first.
    /// </summary>
    public IList<string> Bootstrap { get; } = [];

    /// <summary>Turns membership on without a bootstrap address (the first node of a network).</summary>
    public bool Membership { get; set; }

    /// <summary>The address other nodes reach this one at, when it is not the first <see cref="Listen"/> address.</summary>
    public string? Advertise { get; set; }

    /// <summary>The topic the node is on (default: the default topic).</summary>
    public string? Topic { get; set; }

    /// <summary>A SQLite file that keeps the node's seq, seen ids, retained messages and peers across restarts.</summary>
    public string? StorePath { get; set; }

    /// <summary>Makes the node a member of a private network with this 32-byte key (base64): every link runs the secret handshake.</summary>
    public string? NetworkKey { get; set; }

    /// <summary>Time between gossip rounds (default 100 ms).</summary>
    public TimeSpan Interval { get; set; } = GossipNodeOptions.DefaultInterval;

    /// <summary>The health check reports Degraded below this many links; null (the default): 1 when there are peers to reach (<see cref="Connect"/> or <see cref="Bootstrap"/>), else 0.</summary>
    public int? MinimumLinks { get; set; }

    /// <summary>The health check reports Degraded when the receive backlog is at least this share of its capacity (default 0.9).</summary>
    public double MaximumBacklogShare { get; set; } = 0.9;

    /// <summary>Sets anything else of the node's options, after the above (not bound from configuration).</summary>
    public Action<GossipNodeOptions>? ConfigureNode { get; set; }
}
