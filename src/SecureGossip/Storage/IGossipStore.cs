namespace SecureGossip.Storage;

/// <summary>
/// Where a <see cref="GossipNode"/> keeps what must survive a restart (docs/PROTOCOL.md §11.3): its own next seq,
/// the messages it retains for late joiners, and the ids it has seen, so nothing is delivered twice and an
/// author's seq continues. Give one to <see cref="GossipNodeOptions.Store"/>; the node loads it once, at
/// construction, and disposes it with itself only if told to (<see cref="GossipNodeOptions.OwnsStore"/>).
/// </summary>
/// <remarks>
/// A node calls its store from one place at a time: <see cref="Load"/> in its constructor, then <see cref="Add"/> and
/// <see cref="Flush"/> from its actor only (received and published messages alike), then <see cref="Flush"/> and
/// <see cref="IDisposable.Dispose"/> when it is disposed. An implementation shared by several nodes must lock.
/// </remarks>
public interface IGossipStore : IDisposable
{
    /// <summary>
    /// Reads everything kept, after dropping what has expired at <paramref name="now"/> under <paramref name="retention"/>.
    /// </summary>
    GossipStoreSnapshot Load(DateTimeOffset now, GossipRetention retention);

    /// <summary>
    /// Keeps an accepted or published message. Without <paramref name="durable"/> (what a node does) it is batched and
    /// committed at <see cref="Flush"/>: the node's group commit, after which it delivers the accepted messages of the
    /// batch and sends the published ones (so a seq never leaves before its record), within
    /// <see cref="GossipRetention.FlushInterval"/> if that is finite, or at disposal. With <paramref name="durable"/> the
    /// write is committed before the call returns, on its own (for callers that send right after).
    /// </summary>
    void Add(StoredMessage message, bool durable);

    /// <summary>Commits every batched write now.</summary>
    void Flush();
}

/// <summary>One message as a store keeps it.</summary>
/// <param name="Id">The message id (docs/PROTOCOL.md §3.3, first 128 bits).</param>
/// <param name="Author">The author's public key as written in the line's <c>public</c>.</param>
/// <param name="Sequence">The seq this node accepted it with (the signed seq if there is one).</param>
/// <param name="Own">Published by this node.</param>
/// <param name="AcceptedAt">When this node accepted or published it.</param>
/// <param name="Line">The v1 line, without its newline, as it is forwarded.</param>
public sealed record StoredMessage(UInt128 Id, string Author, double Sequence, bool Own, DateTimeOffset AcceptedAt, byte[] Line);

/// <summary>What a store holds at load time.</summary>
/// <param name="NextSequence">One above the highest seq of the node's own messages ever stored (0 when none).</param>
/// <param name="Retained">Messages still retained, oldest accepted first.</param>
/// <param name="SeenIds">Ids of every message accepted within <see cref="GossipRetention.SeenAge"/>, retained ones included.</param>
public sealed record GossipStoreSnapshot(long NextSequence, IReadOnlyList<StoredMessage> Retained, IReadOnlyList<UInt128> SeenIds);

/// <summary>How long messages and ids are kept (docs/PROTOCOL.md §9.5, §6.2).</summary>
public sealed record GossipRetention
{
    /// <summary>Messages older than this are no longer served to late joiners (default 24 h).</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Messages retained in all (default 100,000): keys are free to make, so without it many one-off authors could
    /// grow the node without bound. The oldest go first. At a few hundred bytes a message, ~50 MB at the limit.
    /// </summary>
    public int MaxMessages { get; init; } = 100_000;

    /// <summary>
    /// Only the newest this many messages of each author are served (default 1,000; at most 32,768, which one sync frame
    /// carries), once they have spread: a message this node accepted less than 30 s ago is kept past the count (up to
    /// 16,384 more; <see cref="Protocol.Core.PlumtreeOptions.RetainWhileSpreading"/>), so a burst from one author larger
    /// than this still reaches every neighbour it was announced to (docs/PROTOCOL.md §9.5).
    /// </summary>
    public int MaxPerAuthor { get; init; } = 1000;

    /// <summary>Ids of accepted messages are remembered this long, so a replay is not delivered again (default 48 h).</summary>
    public TimeSpan SeenAge { get; init; } = TimeSpan.FromHours(48);

    /// <summary>Batched writes are committed at least this often (default 100 ms).</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(100);
}
