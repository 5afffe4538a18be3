using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SecureGossip.Crypto;
using SecureGossip.Protocol;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Links;

/// <summary>
/// Links that never silently die (GossipNodeOptions.Links): keepalives on idle v2 links, dead links noticed by
/// silence or by a write that makes no progress, failures while closing contained, and what the operator reads.
/// Protocol time is a fake clock; the tests await what the node does.
/// </summary>
public sealed class GossipNodeLinkTests : IAsyncDisposable
{
    /// <summary>The keepalive frame and its newline, as a node writes it.</summary>
    private static readonly byte[] s_ping = "{\"sg2\":\"ping\"}\n"u8.ToArray();

    private readonly FakeTimeProvider _clock = new();
    private readonly LogCapture _log = new();
    private readonly List<GossipNode> _nodes = [];

    [Fact]
    public async Task Keepalives_hold_an_idle_v2_link_up_for_as_long_as_both_sides_live()
    {
        GossipNode a = Node(), b = Node();
        (CountingPipeReader readByA, CountingPipeReader readByB) = LinkCountingReads(a, b);
        await Gossip.WaitForV2Async(a, b);

        // Ten idle timeouts of fake time: each side pings every 3 s, and hearing the other keeps the link. Each step
        // waits until both have read the other's ping, or the fake clock would run ahead of the reading.
        for (int second = 0; second < 100; second += 3)
        {
            long heardA = readByA.Consumed, heardB = readByB.Consumed;
            await AdvanceAsync(TimeSpan.FromSeconds(3));
            await Task.WhenAll(readByA.WaitForConsumedAsync(heardA + s_ping.Length), readByB.WaitForConsumedAsync(heardB + s_ping.Length));
        }

        Assert.Single(a.Peers);
        Assert.Single(b.Peers);
        Assert.DoesNotContain(_log.Entries, e => e.Message.Contains(" down:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_v2_peer_that_goes_silent_is_closed_after_the_idle_timeout_with_the_reason_logged_once()
    {
        GossipNode node = Node();
        GossipConnection peer = await RawV2PeerAsync(node);
        await node.WaitForPeersAsync(p => p is [{ Version: 2 }]);
        var received = new StringBuilder();
        Task reading = ReadAllAsync(peer.Input, received);

        for (int i = 0; i < 12 && node.Peers.Count > 0; i++)
        {
            await AdvanceAsync(TimeSpan.FromSeconds(1));
        }

        await node.WaitForPeersAsync(p => p.Count == 0);
        string down = await _log.WaitForAsync((level, m) => level == LogLevel.Warning && m.Contains(" down: nothing received for 10 s", StringComparison.Ordinal));
        await reading;
        Assert.Contains("{\"sg2\":\"ping\"}", received.ToString(), StringComparison.Ordinal); // it was pinged meanwhile
        Assert.Single(_log.Entries, e => e.Message == down);
    }

    [Fact]
    public async Task A_peer_that_stops_reading_is_closed_after_the_write_timeout()
    {
        GossipNode node = Node(interval: TimeSpan.FromMilliseconds(100));

        // A v1 peer (no hello: no idle timeout applies) that never reads, behind a 1 KiB pipe.
        (GossipConnection mine, GossipConnection theirs) = InMemoryTransport.CreatePair(pauseWriterThreshold: 1024);
        Task running = node.RunConnectionAsync(theirs);
        string big = "{\"pad\":\"" + new string('x', 4000) + "\"}";
        for (int i = 0; i < 4; i++)
        {
            node.PublishJson(big);
        }

        for (int i = 0; i < 15 && !running.IsCompleted; i++)
        {
            await AdvanceAsync(TimeSpan.FromSeconds(1));
        }

        await running.WaitAsync(Gossip.Timeout); // ends normally: nothing is thrown from a link
        Assert.Empty(node.Peers);
        await _log.WaitForAsync((level, m) => m.Contains("a write made no progress for 10 s", StringComparison.Ordinal));
        await mine.DisposeAsync();
    }

    [Fact]
    public async Task A_transport_that_fails_while_closing_ends_the_link_without_throwing()
    {
        GossipNode node = Node();
        var pipe = new Pipe();
        var failing = new FailingOnCloseConnection(pipe.Reader, new Pipe().Writer);
        Task running = node.RunConnectionAsync(failing);
        await pipe.Writer.CompleteAsync(); // the peer hangs up

        await running.WaitAsync(Gossip.Timeout);
        Assert.IsType<IOException>(failing.CloseError);
        await _log.WaitForAsync((level, m) => level == LogLevel.Warning && m.Contains("closing it failed (Broken pipe)", StringComparison.Ordinal));

        // The node is unharmed: a new link works.
        GossipNode other = Node();
        var inbox = Gossip.Watch(other);
        Gossip.Link(node, other);
        node.PublishJson("{\"after\":1}");
        await inbox.WaitForAsync(1);
    }

    [Fact]
    public async Task The_v1_compatibility_mode_never_sends_a_keepalive()
    {
        GossipNode node = Node(protocol: GossipProtocol.V1);
        (GossipConnection mine, GossipConnection theirs) = InMemoryTransport.CreatePair();
        Task running = node.RunConnectionAsync(theirs);
        await AdvanceAsync(TimeSpan.FromSeconds(30));
        await node.DisposeAsync();
        await running;
        ReadResult read = await mine.Input.ReadAsync();
        Assert.True(read.IsCompleted);
        Assert.Equal(0, read.Buffer.Length); // not a byte in 30 s: 0.3.1 sends nothing on an idle link
    }

    [Fact]
    public async Task Operators_read_links_up_and_down_once_and_a_periodic_status_and_not_silent_connections()
    {
        GossipNode node = Node(status: TimeSpan.FromSeconds(5));

        // Ten connections that never say anything stay out of the Information log.
        var silent = new List<GossipConnection>();
        for (int i = 0; i < 10; i++)
        {
            (GossipConnection mine, GossipConnection theirs) = InMemoryTransport.CreatePair();
            _ = node.RunConnectionAsync(theirs);
            silent.Add(mine);
        }

        await AdvanceAsync(TimeSpan.FromSeconds(2));
        foreach (GossipConnection connection in silent)
        {
            await connection.DisposeAsync();
        }

        await node.WaitForPeersAsync(p => p.Count == 0);

        // A real peer: up once, down once with its reason.
        GossipNode other = Node();
        (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
        using var cut = new CancellationTokenSource();
        _ = node.RunConnectionAsync(left, cut.Token);
        _ = other.RunConnectionAsync(right, cut.Token);
        await Gossip.WaitForV2Async(node, other);
        await cut.CancelAsync();
        await node.WaitForPeersAsync(p => p.Count == 0);

        // Each side logs its link's end once the link is taken down, a moment after its peer count drops: CI once read
        // the log between the two.
        await _log.WaitForCountAsync((level, m) => level == LogLevel.Information && m.Contains(" down: stopped by its caller", StringComparison.Ordinal), 2);
        await AdvanceAsync(TimeSpan.FromSeconds(4));

        string status = await _log.WaitForAsync((level, m) => level == LogLevel.Information && m.StartsWith("Status: ", StringComparison.Ordinal));
        Assert.Contains("links", status, StringComparison.Ordinal);
        var information = _log.Entries.Where(e => e.Level >= LogLevel.Information && e.Category == typeof(GossipNode).FullName && !e.Message.StartsWith("Status: ", StringComparison.Ordinal)).Select(e => e.Message).ToList();
        Assert.Equal(2, information.Count(m => m.StartsWith("Link ", StringComparison.Ordinal) && m.Contains(" up (protocol v2)", StringComparison.Ordinal))); // node's and other's
        Assert.Equal(2, information.Count(m => m.Contains(" down: stopped by its caller", StringComparison.Ordinal)));
        Assert.Equal(4, information.Count);
    }

    [Theory]
    [InlineData("2001:db8::1", "2001:db8::ffff:1", true)]
    [InlineData("2001:db8::1", "2001:db8:0:1::1", false)]
    [InlineData("::ffff:10.0.0.1", "10.0.0.1", true)]
    [InlineData("10.0.0.1", "10.0.0.2", false)]
    public void Addresses_are_limited_per_IPv4_address_and_per_IPv6_64(string a, string b, bool same) =>
        Assert.Equal(same, AddressKey.Normalize(System.Net.IPAddress.Parse(a)).Equals(AddressKey.Normalize(System.Net.IPAddress.Parse(b))));

    public async ValueTask DisposeAsync()
    {
        foreach (GossipNode node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    private GossipNode Node(TimeSpan? interval = null, GossipProtocol protocol = GossipProtocol.V2, TimeSpan? status = null)
    {
        var node = new GossipNode(new GossipNodeOptions
        {
            TimeProvider = _clock,
            Interval = interval ?? TimeSpan.FromMilliseconds(50),
            Protocol = protocol,
            LoggerFactory = _log,
            StatusInterval = status ?? Timeout.InfiniteTimeSpan,
        });
        _nodes.Add(node);
        return node;
    }

    /// <summary>Moves the fake clock in 250 ms steps, letting every node catch up after each.</summary>
    private async Task AdvanceAsync(TimeSpan span)
    {
        for (TimeSpan done = TimeSpan.Zero; done < span; done += TimeSpan.FromMilliseconds(250))
        {
            _clock.Advance(TimeSpan.FromMilliseconds(250));
            await Task.WhenAll(_nodes.Where(n => !n.IsDisposed).Select(n => n.WhenIdleAsync()));
        }
    }

    /// <summary>Links two nodes in memory, each reading through a <see cref="CountingPipeReader"/>.</summary>
    private static (CountingPipeReader ReadByA, CountingPipeReader ReadByB) LinkCountingReads(GossipNode a, GossipNode b)
    {
        var toA = new Pipe();
        var toB = new Pipe();
        var readByA = new CountingPipeReader(toA.Reader);
        var readByB = new CountingPipeReader(toB.Reader);
        _ = a.RunConnectionAsync(new DuplexPipeConnection(readByA, toB.Writer));
        _ = b.RunConnectionAsync(new DuplexPipeConnection(readByB, toA.Writer));
        return (readByA, readByB);
    }

    private static async Task<GossipConnection> RawV2PeerAsync(GossipNode node)
    {
        (GossipConnection mine, GossipConnection theirs) = InMemoryTransport.CreatePair();
        _ = node.RunConnectionAsync(theirs);
        await mine.Output.WriteAsync(V2Hello.Create(GossipKeys.Generate().Public, 1 << 20));
        await mine.Output.WriteAsync("\n"u8.ToArray());
        return mine;
    }

    private static async Task ReadAllAsync(PipeReader input, StringBuilder into)
    {
        while (true)
        {
            ReadResult result = await input.ReadAsync();
            into.Append(Encoding.UTF8.GetString(result.Buffer.ToArray()));
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>A transport whose close fails the way a dead socket does: "Broken pipe" while flushing.</summary>
    private sealed class FailingOnCloseConnection(PipeReader input, PipeWriter output) : GossipConnection
    {
        public override PipeReader Input => input;

        public override PipeWriter Output => output;

        protected override async ValueTask DisposeCoreAsync()
        {
            await input.CompleteAsync();
            throw new IOException("Broken pipe");
        }
    }
}
