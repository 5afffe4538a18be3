using System.Diagnostics.CodeAnalysis;

namespace SecureGossip.Protocol.Core;

/// <summary>
/// The messages one node keeps to answer grafts and anti-entropy (docs/PROTOCOL.md §6.5, §9.5), bounded three ways:
/// the newest <see cref="PlumtreeOptions.RetainCountPerAuthor"/> of each author (messages younger than
/// <see cref="PlumtreeOptions.RetainWhileSpreading"/> excepted, up to <see cref="MaxSpreadingPerAuthor"/>),
/// <see cref="PlumtreeOptions.RetainMaxMessages"/> in all (authors over their count first, then the oldest of any
/// author), and <see cref="PlumtreeOptions.RetainAge"/> (a periodic sweep).
/// </summary>
/// <remarks>
/// When the last retained message of an author goes, <paramref name="authorEmptied"/> is told, so the owner can drop the
/// rest of what it keeps for that author: per-author state stays bounded by what is retained. Every operation on one
/// message costs O(1), amortised, however many an author holds.
/// </remarks>
internal sealed class RetainedMessages(PlumtreeOptions options, Action<int> authorEmptied)
{
    /// <summary>
    /// The most messages of one author kept past its count while they spread (16,384): all of an author's ids go in one
    /// entry of a <c>sync</c> frame, at about 27 bytes an id, and this many fit well inside the 1 MiB a peer accepts.
    /// </summary>
    public const int MaxSpreadingPerAuthor = 16_384;

    /// <summary>
    /// The most ids of one author ever retained (32,768, about 885 KB in a <c>sync</c> entry): the largest
    /// <see cref="PlumtreeOptions.RetainCountPerAuthor"/> a node accepts, and the ceiling of the allowance for spreading.
    /// </summary>
    public const int MaxIdsPerAuthor = 32_768;

    private readonly Dictionary<MessageId, Retained> _retained = [];
    private readonly Dictionary<int, AuthorIds> _byAuthor = [];

    /// <summary>Authors holding more than their count (young messages still spreading): they pay first past the bound in all.</summary>
    private readonly HashSet<int> _overCount = [];

    /// <summary>Retained ids in the order they were retained (with stale entries, compacted when they dominate).</summary>
    private readonly Queue<MessageId> _order = new();

    /// <summary>The authors with a retained message.</summary>
    public Dictionary<int, AuthorIds>.KeyCollection Authors => _byAuthor.Keys;

    public Retained this[MessageId id] => _retained[id];

    /// <summary>Messages retained now.</summary>
    public int Count => _retained.Count;

    public bool Contains(MessageId id) => _retained.ContainsKey(id);

    public bool TryGet(MessageId id, [NotNullWhen(true)] out Retained? retained) => _retained.TryGetValue(id, out retained);

    public bool HasAuthor(int author) => _byAuthor.ContainsKey(author);

    /// <summary>The author's retained ids, oldest first (none if it has none). Valid until the next change.</summary>
    public ReadOnlySpan<MessageId> OfAuthor(int author) =>
        _byAuthor.TryGetValue(author, out AuthorIds? ids) ? ids.Span : [];

    private int CountPerAuthor => Math.Max(1, options.RetainCountPerAuthor);

    /// <summary>
    /// Keeps a message, evicting the author's oldest past <see cref="PlumtreeOptions.RetainCountPerAuthor"/> that has
    /// spread (is older than <see cref="PlumtreeOptions.RetainWhileSpreading"/>); past
    /// <see cref="PlumtreeOptions.RetainMaxMessages"/>, the oldest of an author over its count goes, else the oldest of all.
    /// </summary>
    public void Add(MessageId id, Retained retained)
    {
        _retained[id] = retained;
        if (!_byAuthor.TryGetValue(id.Author, out AuthorIds? byAuthor))
        {
            _byAuthor[id.Author] = byAuthor = new AuthorIds();
        }

        byAuthor.Add(id);
        _order.Enqueue(id);
        TrimAuthor(id.Author, byAuthor, retained.AcceptedAt);

        // The bound in all: authors past their count pay for their own bursts; else the oldest of any author goes.
        while (_retained.Count > options.RetainMaxMessages && FirstOverCount() is int over)
        {
            AuthorIds ids = _byAuthor[over];
            _retained.Remove(ids.First);
            ids.RemoveFirst(1);
            NoteCount(over, ids);
        }

        while (_retained.Count > options.RetainMaxMessages && _order.TryDequeue(out MessageId oldest))
        {
            if (_retained.Remove(oldest) && _byAuthor.TryGetValue(oldest.Author, out AuthorIds? ids))
            {
                ids.Remove(oldest); // the author's oldest, at the front: cheap
                NoteCount(oldest.Author, ids);
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
        foreach ((int author, AuthorIds ids) in _byAuthor)
        {
            TrimAuthor(author, ids, now);
            int expired = 0;
            while (expired < ids.Count && _retained[ids[expired]].AgeAt(now) >= options.RetainAge)
            {
                _retained.Remove(ids[expired]);
                expired++;
            }

            ids.RemoveFirst(expired);
            NoteCount(author, ids);
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
        foreach ((int author, AuthorIds ids) in _byAuthor)
        {
            for (int i = 0; i < ids.Count; i++)
            {
                if (_retained[ids[i]].Line is { } line)
                {
                    yield return (author, line);
                }
            }
        }
    }

    /// <summary>
    /// Evicts the author's oldest messages past <see cref="PlumtreeOptions.RetainCountPerAuthor"/>, stopping at the first
    /// still spreading at <paramref name="now"/> (a later add or sweep takes it) unless the author holds more than
    /// <see cref="MaxSpreadingPerAuthor"/> past its count or <see cref="MaxIdsPerAuthor"/> in all. The author keeps at least one message, so it is never emptied here.
    /// </summary>
    private void TrimAuthor(int author, AuthorIds ids, TimeSpan now)
    {
        int count = CountPerAuthor;
        int ceiling = Math.Max(count, Math.Min(count + MaxSpreadingPerAuthor, MaxIdsPerAuthor));
        int evict = 0;
        while (ids.Count - evict > count)
        {
            MessageId oldest = ids[evict];
            if (ids.Count - evict <= ceiling && now - _retained[oldest].AcceptedAt < options.RetainWhileSpreading)
            {
                break;
            }

            _retained.Remove(oldest);
            evict++;
        }

        ids.RemoveFirst(evict);
        NoteCount(author, ids);
    }

    private void NoteCount(int author, AuthorIds ids)
    {
        if (ids.Count > CountPerAuthor)
        {
            _overCount.Add(author);
        }
        else
        {
            _overCount.Remove(author);
        }
    }

    private int? FirstOverCount()
    {
        foreach (int author in _overCount)
        {
            return author;
        }

        return null;
    }

    private void ForgetAuthor(int author)
    {
        _byAuthor.Remove(author);
        _overCount.Remove(author);
        authorEmptied(author);
    }

    /// <summary>One author's retained ids, oldest first, in one array: appended at the end, taken from the front in O(1).</summary>
    internal sealed class AuthorIds
    {
        private MessageId[] _items = new MessageId[2]; // most authors of a busy network publish now and then: start small
        private int _head;
        private int _count;

        public int Count => _count;

        public MessageId First => _items[_head];

        public ReadOnlySpan<MessageId> Span => _items.AsSpan(_head, _count);

        public MessageId this[int index] => _items[_head + index];

        public void Add(MessageId id)
        {
            if (_head + _count == _items.Length)
            {
                // Full at the end: slide down if the front has room for as many again, else grow.
                MessageId[] target = _count <= _items.Length / 2 ? _items : new MessageId[_items.Length * 2];
                Array.Copy(_items, _head, target, 0, _count);
                _items = target;
                _head = 0;
            }

            _items[_head + _count++] = id;
        }

        public void RemoveFirst(int count)
        {
            if (count <= 0)
            {
                return;
            }

            _head += count;
            _count -= count;
            if (_count == 0)
            {
                _head = 0;
            }

            if (_items.Length > 64 && _count < _items.Length / 8)
            {
                // An author trimmed back after a burst does not keep the burst's array.
                var smaller = new MessageId[Math.Max(2, _count * 2)];
                Array.Copy(_items, _head, smaller, 0, _count);
                _items = smaller;
                _head = 0;
            }
        }

        /// <summary>Removes <paramref name="id"/>: O(1) when it is the oldest, as eviction by the bound in all finds it.</summary>
        public void Remove(MessageId id)
        {
            if (_count == 0)
            {
                return;
            }

            if (_items[_head].Equals(id))
            {
                RemoveFirst(1);
                return;
            }

            int at = Array.IndexOf(_items, id, _head, _count);
            if (at >= 0)
            {
                Array.Copy(_items, at + 1, _items, at, _head + _count - at - 1);
                _count--;
            }
        }
    }
}
