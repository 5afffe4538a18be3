using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Transports;

/// <summary>
/// The transport seam: a listener yields connections to any <see cref="IGossipConnectionHandler"/>, a client keeps
/// one up through it, with Polly's backoff observed on a fake clock (no test here waits for real time to pass), and a
/// listener at its cap evicts by <see cref="GossipConnection.Abort"/>, whose reason the node logs as the link's end.
/// </summary>
public sealed class ConnectionHandlerSeamTests
{
    /// <summary>
    /// Client options for the fake clock: waits long enough to tell apart, a constant jitter draw so every run waits
    /// the same, and no connect timeout (loopback answers at once; a timer for it would only blur the recorded waits).
    /// </summary>
    private static TcpGossipClientOptions ClientOptions() => new()
    {
        InitialBackoff = TimeSpan.FromSeconds(1),
        MaxBackoff = TimeSpan.FromSeconds(8),
        StableLink = TimeSpan.FromSeconds(30),
        ConnectTimeout = Timeout.InfiniteTimeSpan,
        Random = new ConstantRandom(0.5),
    };

    [Fact]
    public async Task A_listener_and_a_client_hand_their_connections_to_a_handler_that_is_not_a_node_and_the_client_redials_after_a_backoff()
    {
        var server = new FakeConnectionHandler();
        var client = new FakeConnectionHandler();
        var clock = new RecordingTimeProvider();
        TcpGossipClientOptions options = ClientOptions();
        await using TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task serving = listener.ServeAsync(server, cancellationToken: stop.Token);
        Task maintaining = TcpGossipClient.MaintainAsync(client, listener.LocalEndPoint, options, timeProvider: clock, cancellationToken: stop.Token);

        using FakeConnectionHandler.Served outbound = await client.NextAsync();
        using FakeConnectionHandler.Served inbound = await server.NextAsync();
        Assert.Equal(GossipConnectionDirection.Outbound, outbound.Connection.Direction);
        Assert.Equal(GossipConnectionDirection.Inbound, inbound.Connection.Direction);
        await outbound.Connection.Output.WriteAsync(Encoding.UTF8.GetBytes("from the dialler\n"));
        await inbound.Connection.Output.WriteAsync(Encoding.UTF8.GetBytes("from the listener\n"));
        Assert.Contains("from the dialler", await inbound.ReceiveAsync("\n"), StringComparison.Ordinal);
        Assert.Contains("from the listener", await outbound.ReceiveAsync("\n"), StringComparison.Ordinal);

        // The link drops after a moment (short of StableLink): the client backs off before it dials again, and
        // cannot dial before its wait has passed on the clock it was given.
        await outbound.DropAsync();
        await inbound.Ended.Task.WaitAsync(Gossip.Timeout); // the listener's handler saw the peer close
        TimeSpan wait = await clock.NextWaitAsync();
        Assert.InRange(wait, TimeSpan.FromTicks(1), 2 * options.InitialBackoff); // Polly's first jittered delay lies within 2x its base
        Assert.Equal(1, client.ConnectionsServed);
        Assert.Equal(1, server.ConnectionsServed);

        clock.Advance(wait);
        using FakeConnectionHandler.Served again = await client.NextAsync();
        using FakeConnectionHandler.Served acceptedAgain = await server.NextAsync();
        Assert.Equal(GossipConnectionDirection.Outbound, again.Connection.Direction);
        await again.Connection.Output.WriteAsync(Encoding.UTF8.GetBytes("again\n"));
        Assert.Contains("again", await acceptedAgain.ReceiveAsync("\n"), StringComparison.Ordinal);
        Assert.Equal(1, listener.ConnectionCount);

        await stop.CancelAsync();
        await maintaining.WaitAsync(Gossip.Timeout);
        await serving.WaitAsync(Gossip.Timeout);
        await again.Ended.Task.WaitAsync(Gossip.Timeout); // the caller's cancellation reached the running link
    }

    [Fact]
    public async Task The_redial_backoff_doubles_up_to_its_maximum_and_starts_over_after_a_stable_link()
    {
        var server = new FakeConnectionHandler();
        var client = new FakeConnectionHandler();
        var clock = new RecordingTimeProvider();
        TcpGossipClientOptions options = ClientOptions();
        await using TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task serving = listener.ServeAsync(server, cancellationToken: stop.Token);
        Task maintaining = TcpGossipClient.MaintainAsync(client, listener.LocalEndPoint, options, timeProvider: clock, cancellationToken: stop.Token);

        // A peer that accepts and drops at once, again and again: each wait longer than the last, up to the maximum.
        var waits = new List<TimeSpan>();
        for (int i = 0; i < 7; i++)
        {
            using FakeConnectionHandler.Served link = await client.NextAsync();
            await link.DropAsync();
            waits.Add(await clock.SitOutNextWaitAsync());
        }

        string series = string.Join(", ", waits.Select(w => $"{w.TotalMilliseconds:0} ms"));
        Assert.All(waits, w => Assert.InRange(w, TimeSpan.FromTicks(1), options.MaxBackoff));
        Assert.True(waits[0] < 2 * options.InitialBackoff, series);
        for (int i = 2; i < waits.Count && waits[i] < options.MaxBackoff; i++)
        {
            // Past the first two (where Polly's jitter formula is still flattening out) each wait doubles.
            double ratio = waits[i] / waits[i - 1];
            Assert.True(ratio is >= 1.5 and <= 2.5, $"wait {i} is {ratio:0.00}x the one before: {series}");
        }

        Assert.Equal(options.MaxBackoff, waits[^1]);
        Assert.Equal(options.MaxBackoff, waits[^2]);

        // A link that stays up for StableLink: after it, the client pauses only the initial backoff...
        using (FakeConnectionHandler.Served stable = await client.NextAsync())
        {
            clock.Advance(options.StableLink);
            await stable.DropAsync();
        }

        Assert.Equal(options.InitialBackoff, await clock.SitOutNextWaitAsync());

        // ...and the next short link is followed by the first wait of the series again, not by the maximum.
        using (FakeConnectionHandler.Served shortAgain = await client.NextAsync())
        {
            await shortAgain.DropAsync();
        }

        Assert.Equal(waits[0], await clock.SitOutNextWaitAsync());
        using FakeConnectionHandler.Served last = await client.NextAsync();
        Assert.Equal(waits.Count + 3, client.ConnectionsServed);

        await stop.CancelAsync();
        await maintaining.WaitAsync(Gossip.Timeout);
        await serving.WaitAsync(Gossip.Timeout);
    }

    [Fact]
    public async Task Failed_dials_back_off_are_logged_once_at_warning_and_never_throw_and_a_stopped_handler_ends_the_loop()
    {
        IPEndPoint closed;
        await using (TcpGossipListener gone = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0)))
        {
            closed = gone.LocalEndPoint;
        }

        var client = new FakeConnectionHandler();
        var clock = new RecordingTimeProvider();
        var log = new LogCapture();
        TcpGossipClientOptions options = ClientOptions();
        Task maintaining = TcpGossipClient.MaintainAsync(client, closed, options, log.CreateLogger("client"), clock);

        var waits = new List<TimeSpan>();
        for (int i = 0; i < 3; i++)
        {
            waits.Add(await clock.SitOutNextWaitAsync());
        }

        waits.Add(await clock.NextWaitAsync()); // the client now waits after its 4th failure, until the clock moves

        Assert.Equal(waits.Order(), waits);
        Assert.True(waits[^1] > waits[0], string.Join(", ", waits));
        Assert.False(maintaining.IsCompleted);
        Assert.Equal(0, client.ConnectionsServed);

        // The first failure of the outage at Warning with its cause, every retry after it at Debug.
        await log.WaitForAsync((level, m) => m.Contains("attempt 4", StringComparison.Ordinal));
        var warnings = log.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();
        string warning = Assert.Single(warnings);
        Assert.StartsWith($"Cannot connect to {closed}", warning, StringComparison.Ordinal);
        Assert.Contains("ConnectionRefused", warning, StringComparison.Ordinal);
        Assert.Equal(3, log.Entries.Count(e => e.Level == LogLevel.Debug && e.Message.Contains("failed again", StringComparison.Ordinal)));

        // Stopping the handler (not cancelling) ends the loop at its next attempt, without an exception.
        client.Stop();
        clock.Advance(waits[^1]);
        await maintaining.WaitAsync(Gossip.Timeout);
        Assert.False(clock.HasUnreadWait);
    }

    [Fact]
    public async Task A_backed_off_address_is_not_dialled_before_its_back_off_ends()
    {
        var server = new FakeConnectionHandler();
        var client = new FakeConnectionHandler();
        var clock = new RecordingTimeProvider();
        await using TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task serving = listener.ServeAsync(server, cancellationToken: stop.Token);
        client.BackOff(IPAddress.Loopback, TimeSpan.FromSeconds(10));
        Task maintaining = TcpGossipClient.MaintainAsync(client, listener.LocalEndPoint, ClientOptions(), timeProvider: clock, cancellationToken: stop.Token);

        TimeSpan wait = await clock.NextWaitAsync();
        Assert.InRange(wait, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10.5)); // the back-off and a small margin
        Assert.Equal(0, server.ConnectionsServed);

        client.BackOff(IPAddress.Loopback, TimeSpan.Zero); // its back-off ran out
        clock.Advance(wait);
        using FakeConnectionHandler.Served link = await client.NextAsync();
        using FakeConnectionHandler.Served accepted = await server.NextAsync();
        Assert.Equal(1, server.ConnectionsServed);

        await stop.CancelAsync();
        await maintaining.WaitAsync(Gossip.Timeout);
        await serving.WaitAsync(Gossip.Timeout);
    }

    [Fact]
    public async Task A_listener_at_its_cap_aborts_the_oldest_silent_connection_with_the_reason()
    {
        var server = new FakeConnectionHandler();
        server.Defences.MaxInboundConnections = 1;
        await using TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task serving = listener.ServeAsync(server, cancellationToken: stop.Token);

        using var first = new TcpClient();
        await first.ConnectAsync(listener.LocalEndPoint);
        using FakeConnectionHandler.Served oldest = await server.NextAsync();
        using var second = new TcpClient();
        await second.ConnectAsync(listener.LocalEndPoint);
        using FakeConnectionHandler.Served newest = await server.NextAsync();

        await oldest.Ended.Task.WaitAsync(Gossip.Timeout); // the handler saw Closed fire and ended the link
        Assert.True(oldest.Connection.Closed.IsCancellationRequested);
        Assert.StartsWith("evicted: the listener's cap of 1 connections was reached", oldest.Connection.AbortReason, StringComparison.Ordinal);
        Assert.Null(newest.Connection.AbortReason);
        Assert.False(newest.Ended.Task.IsCompleted);
        Assert.Equal(1, listener.ConnectionsEvicted);
        Assert.Equal(1, listener.ConnectionCount);

        await stop.CancelAsync();
        await serving.WaitAsync(Gossip.Timeout);
    }

    [Fact]
    public async Task Abort_keeps_the_first_reason_closes_only_its_own_end_and_is_harmless_after_disposal()
    {
        (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
        Assert.Equal(GossipConnectionDirection.Inbound, left.Direction); // in-memory links have no initiator
        Assert.Null(left.AbortReason);

        left.Abort("first");
        left.Abort("second");
        Assert.True(left.Closed.IsCancellationRequested);
        Assert.Equal("first", left.AbortReason);
        Assert.False(right.Closed.IsCancellationRequested);

        await left.DisposeAsync();
        await right.DisposeAsync();
        right.Abort("after disposal"); // must not throw on the disposed token source
        Assert.Equal("after disposal", right.AbortReason);
    }

    [Fact]
    public async Task A_node_logs_the_listener_s_eviction_reason_as_the_end_of_the_evicted_link()
    {
        var log = new LogCapture();
        var options = new GossipNodeOptions { Interval = Gossip.FastInterval, LoggerFactory = log };
        options.Defences.MaxInboundConnections = 1;
        await using var node = new GossipNode(options);
        await using TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task serving = listener.ServeAsync(node, cancellationToken: stop.Token);

        using var first = new TcpClient();
        await first.ConnectAsync(listener.LocalEndPoint);
        await log.WaitForAsync((level, m) => m.EndsWith(" opened", StringComparison.Ordinal));
        using var second = new TcpClient();
        await second.ConnectAsync(listener.LocalEndPoint);

        string closed = await log.WaitForAsync((level, m) => m.Contains(" closed: ", StringComparison.Ordinal));
        Assert.Contains(" closed: evicted: the listener's cap of 1 connections was reached and it had delivered no valid message", closed, StringComparison.Ordinal);
        Assert.Equal(1, listener.ConnectionsEvicted);

        await stop.CancelAsync();
        await serving.WaitAsync(Gossip.Timeout);
    }
}
