using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;

namespace SecureGossip.Protocol.Core;

/// <summary>
/// The messages one node keeps to answer grafts and anti-entropy (docs/PROTOCOL.md §6.5, §9.5), bounded three ways:
/// the newest <see cref="PlumtreeOptions.RetainCountPerAuthor"/> of each author (messages younger than
/// <see cref="PlumtreeOptions.RetainWhileSpreading"/> excepted, up to <see cref="MaxPerAuthor"/>),
/// <see cref="PlumtreeOptions.RetainMaxMessages"/> in all (an author over its count first, then the oldest of any
/// author), and <see cref="PlumtreeOptions.RetainAge"/> (a periodic sweep).
/// </summary>
/// <remarks>
/// When the last retained message of an author goes, <paramref name="authorEmptied"/> is told, so the owner can drop the
/// rest of what it keeps for that author: per-author state stays bounded by what is retained.
/// </remarks>
internal sealed class RetainedMessages(PlumtreeOptions options, Action<int> authorEmptied)
{
    /// <summary>
    /// The most messages of one author ever retained (60,000), young or not: one author's ids must fit one <c>sync</c>
    /// frame, and it is the largest <see cref="PlumtreeOptions.RetainCountPerAuthor"/> a node accepts.
    /// </summary>
    public const int MaxPerAuthor = 60_000;

    private readonly Dictionary<MessageId, Retained> _retained = [];
    private readonly Dictionary<int, List<MessageId>> _byAuthor = [];

    /// <summary>Retained ids in the order they were retained (with stale entries, compacted when they dominate).</summary>
    private readonly Queue<MessageId> _order = new();

    /// <summary>The authors with a retained message.</summary>
    public Dictionary<int, List<MessageId>>.KeyCollection Authors => _byAuthor.Keys;

    public Retained this[MessageId id] => _retained[id];

    /// <summary>Messages retained now.</summary>
    public int Count => _retained.Count;

    public bool Contains(MessageId id) => _retained.ContainsKey(id);

    public bool TryGet(MessageId id, [NotNullWhen(true)] out Retained? retained) => _retained.TryGetValue(id, out retained);

    public bool HasAuthor(int author) => _byAuthor.ContainsKey(author);

    /// <summary>The author's retained ids, oldest first (none if it has none). Valid until the next change.</summary>
    public ReadOnlySpan<MessageId> OfAuthor(int author) =>
        _byAuthor.TryGetValue(author, out List<MessageId>? ids) ? CollectionsMarshal.AsSpan(ids) : [];

    /// <summary>
    /// Keeps a message, evicting the author's oldest past <see cref="PlumtreeOptions.RetainCountPerAuthor"/> that has
    /// spread (is older than <see cref="PlumtreeOptions.RetainWhileSpreading"/>), and past
    /// <see cref="PlumtreeOptions.RetainMaxMessages"/> this author's oldest if it is over its count, else the oldest of all.
    /// </summary>
    public void Add(MessageId id, Retained retained)
    {
        _retained[id] = retained;
        if (!_byAuthor.TryGetValue(id.Author, out List<MessageId>? byAuthor))
        {
            _byAuthor[id.Author] = byAuthor = [];
        }

        byAuthor.Add(id);
        _order.Enqueue(id);
        TrimAuthor(byAuthor, retained.AcceptedAt);

        // The bound in all: an author past its count pays for its own burst; else the oldest of any author goes.
        while (_retained.Count > options.RetainMaxMessages && byAuthor.Count > Math.Max(1, options.RetainCountPerAuthor))
        {
            _retained.Remove(byAuthor[0]);
            byAuthor.RemoveAt(0);
        }

        while (_retained.Count > options.RetainMaxMessages && _order.TryDequeue(out MessageId oldest))
        {
            if (_retained.Remove(oldest) && _byAuthor.TryGetValue(oldest.Author, out List<MessageId>? ids))
            {
                ids.Remove(oldest); // the author's oldest, at the front: cheap
                if (ids.Count == 0)
                {
                    ForgetAuthor(oldest.Author);
                }
            }
        }

        if (_order.Count > 2 * Math.Max(_retained.Count, 1024))
        {
            // Entries of messages already evicted or expired: rebuild in retained order.
            MessageId[] live = [.. _order.Where(_retained.ContainsKey)];
            _order.Clear();
            foreach (MessageId kept in live)
            {
                _order.Enqueue(kept);
            }
        }
    }

    /// <summary>
    /// Drops messages older than <see cref="PlumtreeOptions.RetainAge"/> at <paramref name="now"/> (their seen state
    /// stays), and an author's oldest past its count once they have spread.
    /// </summary>
    public void Sweep(TimeSpan now)
    {
        List<int>? emptied = null;
        foreach ((int author, List<MessageId> ids) in _byAuthor)
        {
            TrimAuthor(ids, now);
            int expired = 0;
            while (expired < ids.Count && _retained[ids[expired]].AgeAt(now) >= options.RetainAge)
            {
                _retained.Remove(ids[expired]);
                expired++;
            }

            ids.RemoveRange(0, expired);
            if (ids.Count == 0)
            {
                (emptied ??= []).Add(author);
            }
        }

        foreach (int author in emptied ?? [])
        {
            ForgetAuthor(author);
        }
    }

    /// <summary>A link went down: no retained message is known to be on it any more (the slot may come back as a new session).</summary>
    public void RemoveLink(int slot)
    {
        foreach (Retained retained in _retained.Values)
        {
            retained.HaveRemove(slot);
        }
    }

    /// <summary>The lines of every retained message of a real link, each author's in the order they were accepted.</summary>
    public IEnumerable<(int Author, byte[] Line)> Lines()
    {
        foreach ((int author, List<MessageId> ids) in _byAuthor)
        {
            foreach (MessageId id in ids)
            {
                if (_retained[id].Line is { } line)
                {
                    yield return (author, line);
                }
            }
        }
    }

    /// <summary>
    /// Evicts the author's oldest messages past <see cref="PlumtreeOptions.RetainCountPerAuthor"/>, stopping at the first
    /// still spreading at <paramref name="now"/> (a later add or sweep takes it), never keeping more than <see cref="MaxPerAuthor"/>.
    /// The author keeps at least one message, so it is never emptied here.
    /// </summary>
    private void TrimAuthor(List<MessageId> ids, TimeSpan now)
    {
        int count = Math.Max(1, options.RetainCountPerAuthor);
        int evict = 0;
        while (ids.Count - evict > count)
        {
            MessageId oldest = ids[evict];
            if (ids.Count - evict <= MaxPerAuthor && now - _retained[oldest].AcceptedAt < options.RetainWhileSpreading)
            {
                break;
            }

            _retained.Remove(oldest);
            evict++;
        }

        if (evict > 0)
        {
            ids.RemoveRange(0, evict);
        }
    }

    private void ForgetAuthor(int author)
    {
        _byAuthor.Remove(author);
        authorEmptied(author);
    }
}
