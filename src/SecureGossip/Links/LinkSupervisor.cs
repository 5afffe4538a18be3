using SecureGossip.Engine;

namespace SecureGossip.Links;

/// <summary>
/// Runs on a timer: pings idle v2 links, closes links that went silent or whose writes are stuck
/// (<see cref="GossipNodeOptions.Links"/>), and logs the status line when it is due.
/// </summary>
internal sealed class LinkSupervisor : IAsyncDisposable
{
    private readonly NodeServices _node;
    private readonly Func<GossipNodeStatistics> _statistics;
    private readonly ITimer _timer;
    private long _nextStatus;
    private GossipNodeStatistics _lastStatus;
    private long _lastStatusTimestamp;

    public LinkSupervisor(NodeServices node, Func<GossipNodeStatistics> statistics)
    {
        _node = node;
        _statistics = statistics;
        TimeProvider time = node.Time;
        _lastStatusTimestamp = time.GetTimestamp();
        _nextStatus = node.Options.StatusInterval == Timeout.InfiniteTimeSpan ? long.MaxValue : _lastStatusTimestamp + node.Ticks(node.Options.StatusInterval);
        TimeSpan period = node.Options.Links.SupervisionInterval;
        if (node.Options.Links.KeepAliveInterval != Timeout.InfiniteTimeSpan && node.Options.Links.KeepAliveInterval / 2 < period)
        {
            period = node.Options.Links.KeepAliveInterval / 2;
        }

        _timer = time.CreateTimer(static state => ((LinkSupervisor)state!).Supervise(), this, period, period);
    }

    public ValueTask DisposeAsync() => _timer.DisposeAsync();

    /// <summary>Never throws (a timer callback that throws would end the process).</summary>
    private void Supervise()
    {
        try
        {
            long now = _node.Time.GetTimestamp();
            GossipLinkOptions links = _node.Options.Links;
            foreach (PeerLink link in _node.Links.Snapshot())
            {
                long flushStarted = Volatile.Read(ref link.FlushStarted);
                if (flushStarted != 0 && links.WriteTimeout != Timeout.InfiniteTimeSpan && now - flushStarted > _node.Ticks(links.WriteTimeout))
                {
                    link.Close($"a write made no progress for {links.WriteTimeout.TotalSeconds:0.#} s (the peer stopped reading or the path is stalled)", failure: true);
                    continue;
                }

                if (link.Version < 2)
                {
                    continue; // a v1 peer is silent when it has nothing to say: the transport's keepalive watches it
                }

                long waiting = Volatile.Read(ref link.ReadWaitStarted);
                if (links.IdleTimeout != Timeout.InfiniteTimeSpan && waiting != 0 && now - waiting > _node.Ticks(links.IdleTimeout))
                {
                    link.Close($"nothing received for {links.IdleTimeout.TotalSeconds:0.#} s (keepalive missed)", failure: true);
                    continue;
                }

                if (links.KeepAliveInterval != Timeout.InfiniteTimeSpan
                    && now - Volatile.Read(ref link.LastSent) >= _node.Ticks(links.KeepAliveInterval)
                    && Interlocked.Exchange(ref link.PingQueued, 1) == 0)
                {
                    link.Enqueue(NodeServices.Ping);
                }
            }

            if (now >= _nextStatus)
            {
                _nextStatus = now + _node.Ticks(_node.Options.StatusInterval);
                LogStatus(now);
            }
        }
        catch (Exception e)
        {
            Log.SupervisorFailed(_node.Logger, e);
        }
    }

    private void LogStatus(long now)
    {
        GossipNodeStatistics stats = _statistics();
        GossipNodeStatistics last = _lastStatus;
        double seconds = Math.Max(1e-9, (now - _lastStatusTimestamp) / (double)_node.Time.TimestampFrequency);
        int v2 = _node.Links.Snapshot().Count(p => p.Version >= 2);
        Log.Status(
            _node.Logger,
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
            _node.LinkLog.TakeSuppressed());
        _lastStatus = stats;
        _lastStatusTimestamp = now;
    }
}
