using System.Diagnostics;

namespace SecureGossip.Protocol.Core;

/// <summary>
/// What one node has seen, so that a copy of it is a duplicate and never verified (docs/PROTOCOL.md §6): the digests
/// of the messages accepted, the oldest forgotten past <see cref="PlumtreeOptions.MaxSeenDigests"/> unless the driver
/// keeps them (<see cref="PlumtreeOptions.SeenDigests"/>), and every message still retained.
/// </summary>
/// <remarks>Every message is known by its digest, on real links and in the simulator alike (<see cref="MessageId.HasDigest"/>);
/// an id without one (a <c>want</c>'s seq entry, §4.2) names nothing seen.</remarks>
internal sealed class SeenMessages(PlumtreeOptions options, RetainedMessages retained)
{
    // Allocated on first use: a core driven by a GossipEngine asks the engine's set instead, and 10,000 nodes share one
    // simulator process.
    private HashSet<UInt128>? _digests;
    private Queue<UInt128>? _digestOrder;

    public bool Contains(MessageId id) =>
        id.HasDigest && ((options.SeenDigests?.Contains(id.Digest) ?? _digests?.Contains(id.Digest) == true) || retained.Contains(id));

    public void Add(MessageId message)
    {
        Debug.Assert(message.HasDigest, "the core's entry points take only ids with a digest");
        if (options.SeenDigests is { } shared)
        {
            shared.Add(message.Digest);
        }
        else if ((_digests ??= []).Add(message.Digest))
        {
            _digestOrder ??= new();
            _digestOrder.Enqueue(message.Digest);
            if (_digestOrder.Count > options.MaxSeenDigests)
            {
                _digests.Remove(_digestOrder.Dequeue());
            }
        }
    }
}
