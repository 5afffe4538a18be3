namespace SecureGossip.Protocol.Core;

/// <summary>Why a <see cref="PlumtreeMessage"/> was sent (the <c>k</c> field of a v2 <c>msg</c> frame).</summary>
public enum PlumtreeSendKind : byte
{
    /// <summary>Eager push along a tree.</summary>
    Eager,

    /// <summary>Answer to a graft.</summary>
    Graft,

    /// <summary>Anti-entropy.</summary>
    Sync,
}

/// <summary>A v2 <c>msg</c> frame: one message's v1 line with its hop count (docs/PROTOCOL.md §4.2).</summary>
/// <param name="Message">The message.</param>
/// <param name="PayloadBytes">The payload's size.</param>
/// <param name="Kind">Why it was sent.</param>
/// <param name="Hops">Links crossed on arrival (the author sends 1).</param>
/// <param name="AuthorTree">Pushed along a per-author tree (the <c>t</c> flag).</param>
public sealed record PlumtreeMessage(MessageId Message, int PayloadBytes, PlumtreeSendKind Kind, int Hops, bool AuthorTree) : IGossipPayloadFrame
{
    /// <summary>The v1 line the frame carries (<c>m</c>) on real links; <see langword="null"/> in the simulator.</summary>
    public byte[]? Line { get; init; }

    /// <summary>The root of the rooted tree it rides (<c>r</c>, docs/PROTOCOL.md §8.8), or -1.</summary>
    public int Root { get; init; } = -1;

    /// <summary>How old the message is, in ms since it was first accepted anywhere, as the sender estimates it (<c>age</c>).</summary>
    public long AgeMs { get; init; }

    /// <summary>The line (or, simulated, ≈ 200 bytes of envelope and the payload) plus the frame's own fields.</summary>
    public int SizeBytes => Line is { } line ? line.Length + 48 : PayloadBytes + 240;

    /// <inheritdoc/>
    public int PayloadCount => 1;
}

/// <summary>A v2 <c>ihave</c> frame: lazy announcements, each with the hop count the receiver would get.</summary>
public sealed record PlumtreeIHave(MessageId[] Ids, int[] Hops) : IGossipFrame
{
    /// <inheritdoc/>
    public int SizeBytes => 24 + (Ids.Length * 52);

    /// <inheritdoc/>
    public int PayloadCount => 0;
}

/// <summary>A v2 <c>graft</c>: repair (<paramref name="Id"/> set) or optimisation (only <paramref name="Author"/>).</summary>
public sealed record PlumtreeGraft(MessageId? Id, int Author) : IGossipFrame
{
    /// <summary>With no <see cref="Id"/>: "I choose you as my parent in the tree rooted at <see cref="Author"/>" (<c>r</c>, §8.8).</summary>
    public bool Rooted { get; init; }

    /// <inheritdoc/>
    public int SizeBytes => 80;

    /// <inheritdoc/>
    public int PayloadCount => 0;
}

/// <summary>A v2 <c>prune</c>: stop pushing <paramref name="Author"/>'s messages to me.</summary>
public sealed record PlumtreePrune(int Author, bool Optimisation) : IGossipFrame
{
    /// <summary>"Stop pushing the tree rooted at <see cref="Author"/> to me" (<c>r</c>, §8.8).</summary>
    public bool Rooted { get; init; }

    /// <inheritdoc/>
    public int SizeBytes => 80;

    /// <inheritdoc/>
    public int PayloadCount => 0;
}

/// <summary>
/// A v2 <c>tree</c> frame (docs/PROTOCOL.md §8.8): the beacon that builds the tree rooted at <paramref name="Root"/>;
/// <paramref name="Hops"/> is the receiver's depth if it takes the sender as its parent.
/// </summary>
public sealed record PlumtreeBeacon(int Root, int Hops) : IGossipFrame
{
    /// <inheritdoc/>
    public int SizeBytes => 80;

    /// <inheritdoc/>
    public int PayloadCount => 0;
}

/// <summary>
/// One author's part of a frontier: the digests of the author's retained messages (<see cref="Digests"/>, an <c>l</c>
/// entry on the wire); or a seq entry (<c>s</c>, docs/PROTOCOL.md §4.2): every seq below <paramref name="Floor"/> and
/// the listed ones above it are seen.
/// </summary>
/// <remarks>The core knows every message by its digest: it writes digest entries only, and a seq entry it reads (another
/// implementation's signed-seq author) only tells it the author is mentioned. The codec reads and writes both.</remarks>
public sealed record PlumtreeFrontierEntry(int Author, long Floor, long[] Above)
{
    /// <summary>The digests held of this author's retained messages; <see langword="null"/> for a seq entry.</summary>
    public UInt128[]? Digests { get; init; }

    /// <summary>An entry listing digests.</summary>
    public static PlumtreeFrontierEntry ForDigests(int author, UInt128[] digests) => new(author, 0, []) { Digests = digests };
}

/// <summary>A v2 <c>sync</c> frame: a full frontier (on link up) or a delta (authors changed lately).</summary>
/// <remarks>A full frontier too large for one frame is sent as several, each <see cref="Full"/>; the last has <see cref="End"/>.</remarks>
public sealed record PlumtreeSync(bool Full, PlumtreeFrontierEntry[] Entries) : IGossipFrame
{
    /// <summary>The last frame of a full frontier (always true for a delta).</summary>
    public bool End { get; init; } = true;

    /// <inheritdoc/>
    public int SizeBytes => 32 + Entries.Sum(e => 64 + (e.Above.Length * 10) + ((e.Digests?.Length ?? 0) * 27));

    /// <inheritdoc/>
    public int PayloadCount => 0;
}

/// <summary>A v2 <c>want</c> frame: explicit request for messages a delta showed the sender has.</summary>
public sealed record PlumtreeWant(MessageId[] Ids) : IGossipFrame
{
    /// <inheritdoc/>
    public int SizeBytes => 24 + (Ids.Length * 52);

    /// <inheritdoc/>
    public int PayloadCount => 0;
}
