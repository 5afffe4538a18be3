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
            if (link.Announced)
            {
                return;
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
        if (link.Announced && MayLogLinkEvent())
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

        if (_options.CatchUpV1Peers)
        {
            CatchUpV1(link);
        }
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
        if (address is not null)
        {
            BackOff(address);
        }

        Log.PeerCut(_logger, link.Connection, reason, _options.Defences.BackOff.TotalSeconds);
        link.Close($"cut: {reason}", failure: true);
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

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>What one connection has cost in the current budget window (<see cref="GossipDefenceOptions"/>).</summary>
    private sealed class LinkBudget(GossipNode node, PeerLink link)
    {
        private long _windowStart = node._options.TimeProvider.GetTimestamp();
        private int _invalidSignatures;
        private int _malformed;
        private int _oversize;

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
