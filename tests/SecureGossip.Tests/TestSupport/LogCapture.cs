using Microsoft.Extensions.Logging;

namespace SecureGossip.Tests.TestSupport;

/// <summary>An <see cref="ILoggerFactory"/> that keeps every log entry, for tests of what an operator reads.</summary>
internal sealed class LogCapture : ILoggerFactory, ILoggerProvider
{
    private readonly List<(LogLevel Level, string Category, string Message)> _entries = [];
    private readonly List<(Func<LogLevel, string, bool> Match, TaskCompletionSource<string> Signal)> _waiters = [];

    public IReadOnlyList<(LogLevel Level, string Category, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    /// <summary>Waits for an entry (already logged or to come) that matches.</summary>
    public Task<string> WaitForAsync(Func<LogLevel, string, bool> match)
    {
        lock (_entries)
        {
            foreach (var entry in _entries)
            {
                if (match(entry.Level, entry.Message))
                {
                    return Task.FromResult(entry.Message);
                }
            }

            var signal = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, signal));
            return signal.Task.WaitAsync(Gossip.Timeout);
        }
    }

    /// <summary>Waits until <paramref name="count"/> entries (already logged or to come) match.</summary>
    /// <remarks><see cref="WaitForAsync"/> tries each entry on a waiter once, under the lock: a counting match suffices.</remarks>
    public Task WaitForCountAsync(Func<LogLevel, string, bool> match, int count)
    {
        int seen = 0;
        return WaitForAsync((level, message) => match(level, message) && ++seen >= count);
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private void Add(LogLevel level, string category, string message)
    {
        lock (_entries)
        {
            _entries.Add((level, category, message));
            foreach (var waiter in _waiters.Where(w => w.Match(level, message)).ToList())
            {
                waiter.Signal.TrySetResult(message);
                _waiters.Remove(waiter);
            }
        }
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            capture.Add(logLevel, category, formatter(state, exception));
    }
}
