using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Transports;

/// <summary>
/// A fake clock that also reports every finite wait started on it (a <c>Task.Delay</c>, Polly's retry delay), so a
/// test can await the moment a client starts to back off, read how long, and advance the clock by exactly that.
/// </summary>
internal sealed class RecordingTimeProvider : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _waits = Channel.CreateUnbounded<TimeSpan>();

    public RecordingTimeProvider()
        : base(DateTimeOffset.UnixEpoch)
    {
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        // Reported once the timer exists, so advancing the clock by what was reported fires it.
        ITimer timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime > TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan)
        {
            _waits.Writer.TryWrite(dueTime);
        }

        return timer;
    }

    /// <summary>The next wait started on this clock.</summary>
    public Task<TimeSpan> NextWaitAsync() => _waits.Reader.ReadAsync().AsTask().WaitAsync(Gossip.Timeout);

    /// <summary>Waits for the next wait to start, then lets exactly that much time pass; returns its length.</summary>
    public async Task<TimeSpan> SitOutNextWaitAsync()
    {
        TimeSpan wait = await NextWaitAsync();
        Advance(wait);
        return wait;
    }

    /// <summary>Whether a wait was started that the test has not read.</summary>
    public bool HasUnreadWait => _waits.Reader.TryPeek(out _);
}
