using System.Net;
using System.Net.Sockets;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Attacks;

/// <summary>
/// A victim node served by a real <see cref="TcpGossipListener"/> on 127.0.0.1, and honest v2 nodes linked to it over
/// real TCP from their own loopback addresses (so a cut attacker's back-off at <see cref="AttackerAddress"/> never
/// touches them, and the per-address cap counts attackers only). <see cref="ExchangeAsync"/> proves the honest pair
/// still works: one honest node publishes, the victim and every other honest node deliver it.
/// </summary>
internal sealed class DefenceRig : IAsyncDisposable
{
    /// <summary>Where attackers connect from unless a test gives them addresses of their own.</summary>
    public static readonly IPAddress AttackerAddress = IPAddress.Loopback;

    /// <summary>Waits that involve a whole attack (connecting thousands of sockets, verifying a flood).</summary>
    public static readonly TimeSpan LongTimeout = TimeSpan.FromSeconds(120);

    private readonly CancellationTokenSource _stop = new();
    private readonly List<HonestPeer> _honest = [];
    private readonly Task _serving;
    private int _published;

    private DefenceRig(GossipNode victim, TcpGossipListener listener)
    {
        Victim = victim;
        Listener = listener;
        VictimInbox = new MessageWatch(victim);
        _serving = listener.ServeAsync(victim, cancellationToken: _stop.Token);
    }

    public GossipNode Victim { get; }

    public TcpGossipListener Listener { get; }

    public IPEndPoint EndPoint => Listener.LocalEndPoint;

    public MessageWatch VictimInbox { get; }

    /// <summary>Messages the honest peers published through <see cref="ExchangeAsync"/>.</summary>
    public int HonestPublished => _published;

    /// <summary>Starts a victim with default options, except what <paramref name="configure"/> changes.</summary>
    public static DefenceRig Start(Action<GossipNodeOptions>? configure = null)
    {
        var options = new GossipNodeOptions { Interval = Gossip.FastInterval };
        configure?.Invoke(options);
        var victim = new GossipNode(options);
        TcpGossipListener listener;
        try
        {
            listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0), backlog: 512);
        }
        catch
        {
            victim.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        return new DefenceRig(victim, listener);
    }

    /// <summary>The n-th honest address: 127.0.0.(10 + n).</summary>
    public static IPAddress HonestAddress(int n) => IPAddress.Parse($"127.0.0.{10 + n}");

    /// <summary>Links a new honest node (default options: protocol v2) to the victim from <paramref name="source"/>.</summary>
    public async Task<HonestPeer> ConnectHonestAsync(IPAddress source)
    {
        var node = new GossipNode(new GossipNodeOptions { Interval = Gossip.FastInterval });
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(source, 0));
            using var timeout = new CancellationTokenSource(Gossip.Timeout);
            await socket.ConnectAsync(EndPoint, timeout.Token);
        }
        catch
        {
            socket.Dispose();
            await node.DisposeAsync();
            throw;
        }

        var connection = new StreamConnection(new NetworkStream(socket, ownsSocket: true), socket.RemoteEndPoint);
        var inbox = new MessageWatch(node); // before the link runs: the victim's catch-up can arrive at once
        var peer = new HonestPeer(node, node.RunConnectionAsync(connection), inbox);
        _honest.Add(peer);
        await node.WaitForPeersAsync(p => p is [{ Version: 2 }]);
        return peer;
    }

    /// <summary>
    /// <paramref name="from"/> publishes one message; returns once the victim and every other honest peer delivered it.
    /// Honest peers form a star around the victim, so each delivers everything the others publish.
    /// </summary>
    public async Task ExchangeAsync(HonestPeer from)
    {
        string payload = $"{{\"honest\":{Interlocked.Increment(ref _published)}}}";
        from.Node.PublishJson(payload);
        await VictimInbox.WaitForAsync(payload);
        foreach (HonestPeer peer in _honest.Where(p => p != from))
        {
            await peer.Inbox.WaitForAsync(payload);
        }
    }

    /// <summary>Open file descriptors of this process.</summary>
    public static int OpenDescriptors() => Directory.GetFiles("/proc/self/fd").Length;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Listener.DisposeAsync();
        await _serving;
        foreach (HonestPeer peer in _honest)
        {
            await peer.Node.DisposeAsync();
        }

        await Victim.DisposeAsync();
        _stop.Dispose();
    }

    /// <summary>An honest node linked to the victim; <see cref="Link"/> completes only if the victim drops it.</summary>
    internal sealed class HonestPeer(GossipNode node, Task link, MessageWatch inbox)
    {
        public GossipNode Node { get; } = node;

        public Task Link { get; } = link;

        public MessageWatch Inbox { get; } = inbox;
    }
}
