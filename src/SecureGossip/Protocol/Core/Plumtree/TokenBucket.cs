namespace SecureGossip.Protocol.Core;

/// <summary>
/// A token bucket on the core's clock (<see cref="IGossipContext.Now"/>): <see cref="Rate"/> tokens a second, at most
/// one second's worth held, full at first. It also sums what was asked of it in the current one-second window, so
/// a neighbour that asks for many times its budget can be told apart from one that is merely busy.
/// </summary>
internal sealed class TokenBucket(double rate)
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);

    private double _tokens = rate;
    private TimeSpan _last = TimeSpan.MinValue;
    private TimeSpan _windowStart = TimeSpan.MinValue;
    private long _asked;

    /// <summary>Tokens added per second, and the most held.</summary>
    public double Rate { get; } = rate;

    /// <summary>How many tokens were asked for in the current window, granted or not.</summary>
    public long AskedInWindow => _asked;

    /// <summary>Takes up to <paramref name="count"/> tokens and returns how many it got.</summary>
    public int Take(int count, TimeSpan now)
    {
        Refill(now);
        _asked += count;
        int granted = (int)Math.Min(count, Math.Floor(_tokens));
        _tokens -= granted;
        return granted;
    }

    /// <summary>Counts <paramref name="count"/> asked without taking any (a request queued behind others).</summary>
    public void Count(int count, TimeSpan now)
    {
        Refill(now);
        _asked += count;
    }

    /// <summary>How long until <paramref name="count"/> tokens are held (zero if they are now).</summary>
    public TimeSpan Until(int count, TimeSpan now)
    {
        Refill(now);
        double lacking = Math.Min(count, Rate) - _tokens;
        return lacking <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(lacking / Rate);
    }

    private void Refill(TimeSpan now)
    {
        if (_last != TimeSpan.MinValue && now > _last)
        {
            _tokens = Math.Min(Rate, _tokens + ((now - _last).TotalSeconds * Rate));
        }

        _last = now;
        if (_windowStart == TimeSpan.MinValue || now - _windowStart >= Window)
        {
            _windowStart = now;
            _asked = 0;
        }
    }
}
