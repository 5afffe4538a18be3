using Microsoft.Extensions.Logging;
using SecureGossip.Engine;

namespace SecureGossip.Links;

/// <summary>
/// What an operator reads about links: up and down at Information once per link that proved itself, with the reason,
/// at most <see cref="EventsPerMinute"/> a minute (past it, Debug and a count in the status line), so an attacker's
/// connections cannot flood the log.
/// </summary>
internal sealed class LinkEventLog(NodeServices node)
{
    /// <summary>Information-level link events allowed per minute.</summary>
    public const int EventsPerMinute = 30;

    private readonly Lock _gate = new();
    private long _window;
    private int _inWindow;
    private long _suppressed;

    /// <summary>Link events logged at Debug instead since the last call.</summary>
    public long TakeSuppressed() => Interlocked.Exchange(ref _suppressed, 0);

    /// <summary>Whether an Information-level link event may be logged now.</summary>
    public bool MayLog()
    {
        long now = node.Time.GetTimestamp();
        lock (_gate)
        {
            if (now - _window > node.Ticks(TimeSpan.FromMinutes(1)))
            {
                _window = now;
                _inWindow = 0;
            }

            if (_inWindow < EventsPerMinute)
            {
                _inWindow++;
                return true;
            }
        }

        Interlocked.Increment(ref _suppressed);
        return false;
    }

    /// <summary>
    /// A link is announced at Information once it has shown it is a gossip peer: it said hello, or (a v1 peer) it
    /// delivered a valid message. Connections that never do (scanners, idle sockets) stay at Debug.
    /// </summary>
    public void Announce(PeerLink link)
    {
        if (link.Announced)
        {
            return; // the common case, once per accepted message: no lock (once true it stays true; a stale false takes the lock)
        }

        lock (link)
        {
            if (link.Announced || link.Completion.IsCompleted)
            {
                return; // a link whose end was already logged is not announced after it
            }

            link.Announced = true;
        }

        if (MayLog())
        {
            Log.LinkUp(node.Logger, link.Connection, link.Version);
        }
    }

    /// <summary>Logs a link's end once: at Information or Warning if its start was, else at Debug.</summary>
    public void Down(PeerLink link)
    {
        string reason = link.CloseReason ?? "closed";
        bool announced;
        lock (link)
        {
            announced = link.Announced;
            link.Announced = true; // from here on Announce does nothing
        }

        // A link whose up was logged always gets its down (the limiter already let its up through).
        if (!announced)
        {
            Log.PeerDisconnected(node.Logger, link.Connection, reason);
        }
        else if (link.CloseIsFailure)
        {
            Log.LinkFailed(node.Logger, link.Connection, reason);
        }
        else
        {
            Log.LinkDown(node.Logger, link.Connection, reason);
        }
    }
}
