using System.Net;
using SecureGossip.Links;
using SecureGossip.Protocol;
using SecureGossip.Transports;

namespace SecureGossip.Engine;

/// <summary>
/// docs/PROTOCOL.md §10.3: a peer that has not said hello within <see cref="GossipLinkOptions.HelloTimeout"/> is a v1
/// peer, and gets the retained history as v1 lines, each author's in ascending seq because a secure-gossip 0.3.1 peer
/// drops a seq at or below the highest it has seen. Run on the actor.
/// </summary>
/// <remarks>
/// A catch-up reads, sorts and sends the whole retained history: cheap for a JS late joiner, ruinous if any silent
/// connection could ask for one. At most 2 a second (a burst of 8) in all, and one a minute per address; the others get
/// only live traffic, as from secure-gossip 0.3.1.
/// </remarks>
internal sealed class V1CatchUp(NodeServices node)
{
    private readonly Dictionary<IPAddress, long> _byAddress = [];
    private double _tokens = 8;
    private long _refilled;

    public void HelloTimedOut(PeerLink link, GossipEngine engine)
    {
        if (link.Version >= 2 || link.Completion.IsCompleted || engine.Tree is null || !node.Options.CatchUpV1Peers || !MayCatchUp(link))
        {
            return;
        }

        var lines = engine.Tree.RetainedLines()
            .Select(r => (r.Author, r.Line, Seq: V1Envelope.TryParse(r.Line, node.Options.MaxJsonDepth, out V1Envelope envelope) == DropReason.None ? envelope.Seq : double.MaxValue))
            .OrderBy(r => r.Author)
            .ThenBy(r => r.Seq)
            .ToList();
        Log.V1CatchUp(node.Logger, link.Connection, lines.Count);
        foreach (var retained in lines)
        {
            link.EnqueueBulk(retained.Line);
        }
    }

    private bool MayCatchUp(PeerLink link)
    {
        long now = node.Time.GetTimestamp();
        double frequency = node.Time.TimestampFrequency;
        _tokens = Math.Min(8, _tokens + ((now - _refilled) / frequency * 2));
        _refilled = now;
        if (_tokens < 1)
        {
            Log.CatchUpSkipped(node.Logger, link.Connection, "too many catch-ups at once");
            return false;
        }

        if (link.RemoteAddress is { } address)
        {
            address = AddressKey.Normalize(address);
            if (_byAddress.TryGetValue(address, out long last) && now - last < node.Ticks(TimeSpan.FromMinutes(1)))
            {
                Log.CatchUpSkipped(node.Logger, link.Connection, "its address had one less than a minute ago");
                return false;
            }

            if (_byAddress.Count >= 10_000)
            {
                _byAddress.Clear(); // forgetting lets a few extra through; it never lets memory grow
            }

            _byAddress[address] = now;
        }

        _tokens--;
        return true;
    }
}
