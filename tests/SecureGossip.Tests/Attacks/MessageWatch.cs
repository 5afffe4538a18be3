namespace SecureGossip.Tests.Attacks;

/// <summary>
/// What one node delivered, by payload: a test awaits a given payload, or a count, and checks that nothing came twice.
/// </summary>
internal sealed class MessageWatch
{
    private readonly Dictionary<string, int> _deliveries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskCompletionSource> _payloadWaiters = new(StringComparer.Ordinal);
    private readonly List<(int Count, TaskCompletionSource Signal)> _countWaiters = [];
    private int _total;

    public MessageWatch(GossipNode node) => node.MessageReceived += (_, message) => Record(message.ToString());

    /// <summary>Messages delivered so far.</summary>
    public int Total
    {
        get
        {
            lock (_deliveries)
            {
                return _total;
            }
        }
    }

    /// <summary>Payloads delivered more than once.</summary>
    public int Duplicates
    {
        get
        {
            lock (_deliveries)
            {
                return _deliveries.Count(d => d.Value > 1);
            }
        }
    }

    /// <summary>Distinct payloads delivered.</summary>
    public int Distinct
    {
        get
        {
            lock (_deliveries)
            {
                return _deliveries.Count;
            }
        }
    }

    public Task WaitForAsync(string payload, TimeSpan? timeout = null)
    {
        lock (_deliveries)
        {
            if (_deliveries.ContainsKey(payload))
            {
                return Task.CompletedTask;
            }

            if (!_payloadWaiters.TryGetValue(payload, out TaskCompletionSource? signal))
            {
                signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _payloadWaiters.Add(payload, signal);
            }

            return signal.Task.WaitAsync(timeout ?? DefenceRig.LongTimeout);
        }
    }

    public Task WaitForCountAsync(int count, TimeSpan? timeout = null)
    {
        lock (_deliveries)
        {
            if (_total >= count)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _countWaiters.Add((count, signal));
            return signal.Task.WaitAsync(timeout ?? DefenceRig.LongTimeout);
        }
    }

    private void Record(string payload)
    {
        lock (_deliveries)
        {
            _deliveries[payload] = _deliveries.GetValueOrDefault(payload) + 1;
            _total++;
            if (_payloadWaiters.Remove(payload, out TaskCompletionSource? signal))
            {
                signal.TrySetResult();
            }

            for (int i = _countWaiters.Count - 1; i >= 0; i--)
            {
                if (_total >= _countWaiters[i].Count)
                {
                    _countWaiters[i].Signal.TrySetResult();
                    _countWaiters.RemoveAt(i);
                }
            }
        }
    }
}
