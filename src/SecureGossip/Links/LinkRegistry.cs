using System.Net;
using SecureGossip.Engine;
using SecureGossip.Transports;

namespace SecureGossip.Links;

/// <summary>
/// The node's links now (a registry with its own lock: read loops, the supervisor, listeners and the public API ask
/// it from their own threads), and cutting a peer that misbehaved.
/// </summary>
internal sealed class LinkRegistry(NodeServices node)
{
    private readonly Lock _gate = new();
    private readonly List<PeerLink> _links = [];

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _links.Count;
            }
        }
    }

    public void Add(PeerLink link)
    {
        lock (_gate)
        {
            _links.Add(link);
        }
    }

    public void Remove(PeerLink link)
    {
        lock (_gate)
        {
            _links.Remove(link);
        }
    }

    public PeerLink[] Snapshot()
    {
        lock (_gate)
        {
            return [.. _links];
        }
    }

    /// <summary>
    /// Closes a peer that exceeded a budget or misbehaved, counts it, and refuses its address for
    /// <see cref="GossipDefenceOptions.BackOff"/>; the address's other links go too, or one address with many sockets
    /// would spend each budget once per socket.
    /// </summary>
    public void Cut(PeerLink link, string reason)
    {
        if (Interlocked.Exchange(ref link.Cut, 1) != 0)
        {
            return;
        }

        Interlocked.Increment(ref node.Counters.PeersCut);
        IPAddress? address = link.RemoteAddress;
        string backedOff = "";
        if (address is not null && node.Options.Defences.BackOff > TimeSpan.Zero)
        {
            IPAddress key = AddressKey.Normalize(address);
            node.BackOff.BackOff(key);
            backedOff = $"; {key} is refused for {node.Options.Defences.BackOff.TotalSeconds:0} s";
            foreach (PeerLink other in Snapshot())
            {
                if (other != link && other.RemoteAddress is { } otherAddress && AddressKey.Normalize(otherAddress).Equals(key))
                {
                    other.Close($"its address {key} was backed off (another connection from it was cut)", failure: true);
                }
            }
        }

        // Logged once, as the link's end (at Warning), whether or not the link had been announced.
        link.Announced = true;
        link.Close($"cut: {reason}{backedOff}", failure: true);
    }

    /// <summary>Closes every current link and waits for them to end (the node keeps running).</summary>
    public async Task DisconnectAllAsync()
    {
        PeerLink[] links = Snapshot();
        foreach (PeerLink link in links)
        {
            link.Close();
        }

        await Task.WhenAll(links.Select(l => l.Completion));
    }
}
