using System.Net;
using Microsoft.Extensions.Logging;
using SecureGossip.Protocol;

namespace SecureGossip;

/// <summary>
/// Link supervision: keepalives and dead-link detection (<see cref="GossipNodeOptions.Links"/>), per-peer budgets
/// and backed-off addresses (<see cref="GossipNodeOptions.Defences"/>), what an operator reads in the log (links up
/// and down with their reason, once; a periodic status line).
/// </summary>
public sealed partial class GossipNode
{
    /// <summary>The keepalive frame: a v2 peer counts it as life, a v1 peer never gets one.</summary>
    private static readonly byte[] s_ping = "{\"sg2\":\"ping\"}"u8.ToArray();

    /// <summary>Information-level link events allowed per minute; past it they go to Debug and are counted.</summary>
    private const int LinkEventsPerMinute = 30;

    private readonly Lock _backOffGate = new();
    private readonly Dictionary<IPAddress, long> _backedOff = [];
    private readonly Queue<(IPAddress Address, long Until)> _backOffOrder = new();
    private ITimer? _supervisor;

    // The v1 catch-up budget (commit loop only).
    private double _catchUpTokens = 8;
    private long _catchUpRefilled;
    private readonly Dictionary<IPAddress, long> _catchUpByAddress = [];
    private long _nextStatus;
    private long _linkEventWindow;
    private int _linkEventsInWindow;
    private long _linkEventsSuppressed;
    private GossipNodeStatistics _lastStatus;
    private long _lastStatusTimestamp;

    private void StartSupervisor()
    {
        TimeProvider time = _options.TimeProvider;
        _lastStatusTimestamp = time.GetTimestamp();
        _nextStatus = _options.StatusInterval == Timeout.InfiniteTimeSpan ? long.MaxValue : _lastStatusTimestamp + Ticks(_options.StatusInterval);
        TimeSpan period = TimeSpan.FromSeconds(1);
        if (_options.Links.KeepAliveInterval != Timeout.InfiniteTimeSpan && _options.Links.KeepAliveInterval / 2 < period)
        {
            period = _options.Links.KeepAliveInterval / 2;
        }

        _supervisor = time.CreateTimer(static state => ((GossipNode)state!).Supervise(), this, period, period);
    }

    /// <summary>Ends the link over <paramref name="connection"/>, if there is one, for <paramref name="reason"/> (logged as its end).</summary>
    internal void CloseLink(Transports.GossipConnection connection, string reason)
    {
        PeerLink? link;
        lock (_gate)
        {
            link = _peers.Find(p => p.Connection == connection);
        }

        link?.Close(reason);
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _options.TimeProvider.TimestampFrequency);

    /// <summary>
    /// Runs on a timer: pings idle v2 links, closes links that went silent or whose writes are stuck, logs the status
    /// line when it is due. Never throws (a timer callback that throws would end the process).
    /// </summary>
    private void Supervise()
    {
        try
        {
            long now = _options.TimeProvider.GetTimestamp();
            GossipLinkOptions links = _options.Links;
            PeerLink[] peers;
            lock (_gate)
            {
                peers = [.. _peers];
            }

            foreach (PeerLink link in peers)
            {
                long flushStarted = Volatile.Read(ref link.FlushStarted);
                if (flushStarted != 0 && links.WriteTimeout != Timeout.InfiniteTimeSpan && now - flushStarted > Ticks(links.WriteTimeout))
                {
                    link.Close($"a write made no progress for {links.WriteTimeout.TotalSeconds:0.#} s (the peer stopped reading or the path is stalled)", failure: true);
                    continue;
                }

                if (link.Version < 2)
                {
                    continue; // a v1 peer is silent when it has nothing to say: the transport's keepalive watches it
                }

                long waiting = Volatile.Read(ref link.ReadWaitStarted);
                if (links.IdleTimeout != Timeout.InfiniteTimeSpan && waiting != 0 && now - waiting > Ticks(links.IdleTimeout))
                {
                    link.Close($"nothing received for {links.IdleTimeout.TotalSeconds:0.#} s (keepalive missed)", failure: true);
                    continue;
                }

                if (links.KeepAliveInterval != Timeout.InfiniteTimeSpan
                    && now - Volatile.Read(ref link.LastSent) >= Ticks(links.KeepAliveInterval)
                    && Interlocked.Exchange(ref link.PingQueued, 1) == 0)
                {
                    link.Enqueue([s_ping]);
                }
            }

            if (now >= _nextStatus)
            {
                _nextStatus = now + Ticks(_options.StatusInterval);
                LogStatus(now);
            }
        }
        catch (Exception e)
        {
            Log.SupervisorFailed(_logger, e);
        }
    }

    private void LogStatus(long now)
    {
        GossipNodeStatistics stats = Statistics;
        GossipNodeStatistics last = _lastStatus;
        double seconds = Math.Max(1e-9, (now - _lastStatusTimestamp) / (double)_options.TimeProvider.TimestampFrequency);
        int v2;
        lock (_gate)
        {
            v2 = _peers.Count(p => p.Version >= 2);
        }

        Log.Status(
            _logger,
            stats.ConnectedPeers,
            v2,
            (stats.MessagesAccepted - last.MessagesAccepted) / seconds,
            (stats.MessagesPublished - last.MessagesPublished) / seconds,
            (stats.LinesSent - last.LinesSent) / seconds,
            stats.DroppedBadSignature - last.DroppedBadSignature,
            stats.DroppedMalformed - last.DroppedMalformed,
            stats.DroppedTooLong - last.DroppedTooLong,
            stats.DroppedOld - last.DroppedOld,
            stats.PeersCut - last.PeersCut,
            stats.StoreLagMilliseconds,
            Interlocked.Exchange(ref _linkEventsSuppressed, 0));
        _lastStatus = stats;
        _lastStatusTimestamp = now;
    }

    /// <summary>Whether an Information-level link event may be logged now (at most <see cref="LinkEventsPerMinute"/> a minute).</summary>
    private bool MayLogLinkEvent()
    {
        long now = _options.TimeProvider.GetTimestamp();
        lock (_backOffGate)
        {
            if (now - _linkEventWindow > Ticks(TimeSpan.FromMinutes(1)))
            {
                _linkEventWindow = now;
                _linkEventsInWindow = 0;
            }

            if (_linkEventsInWindow < LinkEventsPerMinute)
            {
                _linkEventsInWindow++;
                return true;
            }
        }

        Interlocked.Increment(ref _linkEventsSuppressed);
        return false;
    }

    /// <summary>
    /// A link is announced at Information once it has shown it is a gossip peer: it said hello, or (a v1 peer) it
    /// delivered a valid message. Connections that never do (scanners, idle sockets) stay at Debug, so they cannot
    /// flood the log.
    /// </summary>
    private void AnnounceLink(PeerLink link)
    {
        lock (link)
        {
            if (link.Announced || link.Completion.IsCompleted)
            {
                return; // a link whose end was already logged is not announced after it
            }

            link.Announced = true;
        }

        if (MayLogLinkEvent())
        {
            Log.LinkUp(_logger, link.Connection, link.Version);
        }
    }

    private void LogLinkDown(PeerLink link)
    {
        string reason = link.CloseReason ?? "closed";
        bool announced;
        lock (link)
        {
            announced = link.Announced;
            link.Announced = true; // from here on AnnounceLink does nothing
        }

        // A link whose up was logged always gets its down (the limiter already let its up through).
        if (announced)
        {
            if (link.CloseIsFailure)
            {
                Log.LinkFailed(_logger, link.Connection, reason);
            }
            else
            {
                Log.LinkDown(_logger, link.Connection, reason);
            }
        }
        else
        {
            Log.PeerDisconnected(_logger, link.Connection, reason);
        }
    }

    /// <summary>On the commit loop, <see cref="GossipLinkOptions.HelloTimeout"/> after connecting.</summary>
    private void HelloTimedOut(PeerLink link)
    {
        if (link.Version >= 2 || link.Completion.IsCompleted)
        {
            return;
        }

        if (_options.CatchUpV1Peers && MayCatchUp(link))
        {
            CatchUpV1(link);
        }
    }

    /// <summary>
    /// A v1 catch-up reads, sorts and sends the whole retained history, on the commit loop: cheap for a JS late joiner,
    /// ruinous if any silent connection could ask for one. At most 2 a second (a burst of 8) in all, and one a
    /// minute per address; the others get only live traffic, as from secure-gossip 0.3.1.
    /// </summary>
    private bool MayCatchUp(PeerLink link)
    {
        long now = _options.TimeProvider.GetTimestamp();
        double frequency = _options.TimeProvider.TimestampFrequency;
        _catchUpTokens = Math.Min(8, _catchUpTokens + ((now - _catchUpRefilled) / frequency * 2));
        _catchUpRefilled = now;
        if (_catchUpTokens < 1)
        {
            Log.CatchUpSkipped(_logger, link.Connection, "too many catch-ups at once");
            return false;
        }

        if ((link.Connection.RemoteEndPoint as IPEndPoint)?.Address is { } address)
        {
            address = Normalize(address);
            if (_catchUpByAddress.TryGetValue(address, out long last) && now - last < Ticks(TimeSpan.FromMinutes(1)))
            {
                Log.CatchUpSkipped(_logger, link.Connection, "its address had one less than a minute ago");
                return false;
            }

            if (_catchUpByAddress.Count >= 10_000)
            {
                _catchUpByAddress.Clear(); // forgetting lets a few extra through; it never lets memory grow
            }

            _catchUpByAddress[address] = now;
        }

        _catchUpTokens--;
        return true;
    }

    /// <summary>
    /// Counts a dropped line or frame against the peer it came from, and cuts the peer when it is over its budget.
    /// </summary>
    private void Charge(PeerLink? link, DropReason reason) => link?.Budget.Charge(reason);

    /// <summary>
    /// Closes a peer that exceeded a budget or misbehaved, counts it, and refuses its address for
    /// <see cref="GossipDefenceOptions.BackOff"/>.
    /// </summary>
    private void CutPeer(PeerLink link, string reason)
    {
        if (Interlocked.Exchange(ref link.Cut, 1) != 0)
        {
            return;
        }

        Interlocked.Increment(ref _counters.PeersCut);
        IPAddress? address = (link.Connection.RemoteEndPoint as IPEndPoint)?.Address;
        string backedOff = "";
        if (address is not null && _options.Defences.BackOff > TimeSpan.Zero)
        {
            BackOff(address);
            backedOff = $"; {Normalize(address)} is refused for {_options.Defences.BackOff.TotalSeconds:0} s";

            // The address is backed off: its other connections go too, or one address with many sockets would
            // spend each budget once per socket.
            PeerLink[] sameAddress;
            lock (_gate)
            {
                sameAddress = [.. _peers.Where(p => p != link && p.Connection.RemoteEndPoint is IPEndPoint other && Normalize(other.Address).Equals(Normalize(address)))];
            }

            foreach (PeerLink other in sameAddress)
            {
                other.Close($"its address {Normalize(address)} was backed off (another connection from it was cut)", failure: true);
            }
        }

        // Logged once, as the link's end (at Warning), whether or not the link had been announced.
        link.Announced = true;
        link.Close($"cut: {reason}{backedOff}", failure: true);
    }

    private void BackOff(IPAddress address)
    {
        if (_options.Defences.BackOff == TimeSpan.Zero)
        {
            return;
        }

        address = Normalize(address);
        long until = _options.TimeProvider.GetTimestamp() + Ticks(_options.Defences.BackOff);
        lock (_backOffGate)
        {
            _backedOff[address] = until;
            _backOffOrder.Enqueue((address, until));
            while (_backOffOrder.Count > _options.Defences.MaxBackedOffAddresses && _backOffOrder.TryDequeue(out var oldest))
            {
                if (_backedOff.TryGetValue(oldest.Address, out long current) && current == oldest.Until)
                {
                    _backedOff.Remove(oldest.Address);
                }
            }
        }
    }

    /// <summary>
    /// Whether <paramref name="address"/> belongs to a peer that was cut for exceeding a budget less than
    /// <see cref="GossipDefenceOptions.BackOff"/> ago. Listeners refuse such addresses; clients wait before dialling.
    /// </summary>
    public bool IsBackedOff(IPAddress address) => BackedOffFor(address) > TimeSpan.Zero;

    /// <summary>How much longer <paramref name="address"/> is backed off (zero when it is not).</summary>
    public TimeSpan BackedOffFor(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        address = Normalize(address);
        long now = _options.TimeProvider.GetTimestamp();
        lock (_backOffGate)
        {
            if (!_backedOff.TryGetValue(address, out long until))
            {
                return TimeSpan.Zero;
            }

            if (until <= now)
            {
                _backedOff.Remove(address);
                return TimeSpan.Zero;
            }

            return TimeSpan.FromSeconds((until - now) / (double)_options.TimeProvider.TimestampFrequency);
        }
    }

    /// <summary>
    /// The key under which an address is limited and backed off: an IPv4 address (mapped ones unmapped), or the /64
    /// an IPv6 address is in, because one host commonly holds a whole /64 and could otherwise rotate through it.
    /// </summary>
    internal static IPAddress Normalize(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }

    /// <summary>What one connection has cost in the current budget window (<see cref="GossipDefenceOptions"/>).</summary>
    private sealed class LinkBudget(GossipNode node, PeerLink link)
    {
        private long _windowStart = node._options.TimeProvider.GetTimestamp();
        private int _invalidSignatures;
        private int _malformed;
        private int _oversize;
        private long _newAuthors;

        /// <summary>
        /// Author names this link's frames added to the node's table (unsigned: anyone can name any key). Over the
        /// link's lifetime, not per window, because the table is only ever filled, never emptied by time.
        /// </summary>
        public void ChargeNewAuthors(int count)
        {
            int limit = node._options.Defences.MaxAuthorsIntroducedPerLink;
            if (Interlocked.Add(ref _newAuthors, count) > limit)
            {
                node.CutPeer(link, $"its frames named more than {limit} authors this node had never seen");
            }
        }

        public void Charge(DropReason reason)
        {
            GossipDefenceOptions limits = node._options.Defences;
            string? over = null;
            lock (this)
            {
                long now = node._options.TimeProvider.GetTimestamp();
                if (now - _windowStart > node.Ticks(limits.BudgetWindow))
                {
                    _windowStart = now;
                    _invalidSignatures = _malformed = _oversize = 0;
                }

                // What an honest relay may forward is never charged: a JS 0.3.1 peer forwards every message it accepted,
                // and it accepts lines longer or deeper than our limits and a seq of any type. So on v1 links only bytes
                // that are not JSON and invalid signatures count; a v2 peer (a .NET node: same limits, it verifies
                // and checks before it forwards) is held to the frame size it was told in our hello, and to messages.
                bool v2 = link.Version >= 2;
                switch (reason)
                {
                    case DropReason.BadKey or DropReason.BadSignature:
                        if (++_invalidSignatures > limits.InvalidSignatureBudget)
                        {
                            over = $"more than {limits.InvalidSignatureBudget} invalid signatures in {limits.BudgetWindow.TotalSeconds:0.#} s";
                        }

                        break;
                    case DropReason.TooLong when v2:
                        if (++_oversize > limits.OversizeBudget)
                        {
                            over = $"more than {limits.OversizeBudget} oversize lines in {limits.BudgetWindow.TotalSeconds:0.#} s";
                        }

                        break;
                    case DropReason.Malformed:
                    case DropReason.NotAMessage or DropReason.TooDeep when v2:
                        if (++_malformed > limits.MalformedBudget)
                        {
                            over = $"more than {limits.MalformedBudget} malformed lines or frames in {limits.BudgetWindow.TotalSeconds:0.#} s";
                        }

                        break;
                }
            }

            if (over is not null)
            {
                node.CutPeer(link, over);
            }
        }
    }
}
