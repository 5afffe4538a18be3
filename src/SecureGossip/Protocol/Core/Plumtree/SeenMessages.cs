namespace SecureGossip.Protocol.Core;

/// <summary>
/// What one node has seen, so that a copy of it is a duplicate and never verified (docs/PROTOCOL.md §6): per author,
/// the seqs of messages tracked by seq (a floor and the seqs above it); the digests of messages tracked by digest,
/// the oldest forgotten past <see cref="PlumtreeOptions.MaxSeenDigests"/> unless the driver keeps them
/// (<see cref="PlumtreeOptions.SeenDigests"/>); and every message still retained.
/// </summary>
internal sealed class SeenMessages(PlumtreeOptions options, RetainedMessages retained)
{
    private readonly Dictionary<int, SeenSeqs> _seqs = [];

    // Allocated on first use: the simulator's nodes never need them, and 10,000 of them share one process.
    private HashSet<UInt128>? _digests;
    private Queue<UInt128>? _digestOrder;

    /// <summary>The authors with a message tracked by seq.</summary>
    public Dictionary<int, SeenSeqs>.KeyCollection Authors => _seqs.Keys;

    public bool HasAuthor(int author) => _seqs.ContainsKey(author);

    /// <summary>The seqs seen of <paramref name="author"/>; looked up, never created.</summary>
    public SeenSeqs? Of(int author) => _seqs.GetValueOrDefault(author);

    public bool Contains(MessageId id) => id.HasDigest
        ? (options.SeenDigests?.Contains(id.Digest) ?? _digests?.Contains(id.Digest) == true) || retained.Contains(id)
        : _seqs.TryGetValue(id.Author, out SeenSeqs? seen) && seen.Contains(id.Sequence);

    public void Add(MessageId message)
    {
        if (message.HasDigest)
        {
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
        else
        {
            if (!_seqs.TryGetValue(message.Author, out SeenSeqs? seen))
            {
                _seqs[message.Author] = seen = new SeenSeqs();
            }

            seen.Add(message.Sequence);
        }
    }
}
