using System.Net;
using SecureGossip.Transports;

namespace SecureGossip.Links;

/// <summary>
/// Addresses of peers cut for exceeding a budget, refused (listeners) and not dialled (clients) until their back-off
/// ends (<see cref="GossipDefenceOptions.BackOff"/>). Bounded by <see cref="GossipDefenceOptions.MaxBackedOffAddresses"/>,
/// the oldest forgotten first. Thread-safe: listeners, clients and links ask it from their own threads.
/// </summary>
internal sealed class BackOffTable(GossipDefenceOptions limits, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<IPAddress, long> _until = [];
    private readonly Queue<(IPAddress Address, long Until)> _order = new();

    /// <summary>Refuses <paramref name="address"/> (normalised) for the back-off time.</summary>
    public void BackOff(IPAddress address)
    {
        if (limits.BackOff <= TimeSpan.Zero)
        {
            return;
        }

        address = AddressKey.Normalize(address);
        long until = time.GetTimestamp() + (long)(limits.BackOff.TotalSeconds * time.TimestampFrequency);
        lock (_gate)
        {
            _until[address] = until;
            _order.Enqueue((address, until));
            while (_order.Count > limits.MaxBackedOffAddresses && _order.TryDequeue(out var oldest))
            {
                if (_until.TryGetValue(oldest.Address, out long current) && current == oldest.Until)
                {
                    _until.Remove(oldest.Address);
                }
            }
        }
    }

    /// <summary>How much longer <paramref name="address"/> is backed off (zero when it is not).</summary>
    public TimeSpan BackedOffFor(IPAddress address)
    {
        address = AddressKey.Normalize(address);
        long now = time.GetTimestamp();
        lock (_gate)
        {
            if (!_until.TryGetValue(address, out long until))
            {
                return TimeSpan.Zero;
            }

            if (until <= now)
            {
                _until.Remove(address);
                return TimeSpan.Zero;
            }

            return TimeSpan.FromSeconds((until - now) / (double)time.TimestampFrequency);
        }
    }
}
