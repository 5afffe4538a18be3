namespace SecureGossip.Protocol.Core;

/// <summary>
/// A retained message of the simulator (no line): what serving it again needs, and which links are known to have it.
/// </summary>
internal class Retained(int author, int payloadBytes, int hops, int arrivalSlot, PlumtreeSendKind kind, TimeSpan acceptedAt)
{
    // Links known to have the message: the first 64 inline (most nodes have fewer), the rest on demand.
    // Kept per retained message on every node, so it is the core's largest state (docs/PROTOCOL.md §6.5).
    private SlotBits _have;

    public int Author { get; } = author;

    /// <summary>The v1 line on real links, null in the simulator.</summary>
    public virtual byte[]? Line { get => null; init => throw new NotSupportedException(); }

    public virtual long AgeAtAcceptanceMs { get => 0; init => throw new NotSupportedException(); }

    public int PayloadBytes { get; } = payloadBytes;

    public int Hops { get; } = hops;

    /// <summary>The link its first copy came from (-1: published here, restored, or from outside the core's links).</summary>
    public int ArrivalSlot { get; } = arrivalSlot;

    public PlumtreeSendKind Kind { get; } = kind;

    public TimeSpan AcceptedAt { get; } = acceptedAt;

    /// <summary>The root of the rooted tree the message rides (-1: none, the shared or author tree).</summary>
    public int Root { get; set; } = -1;

    /// <summary>Whether an announcement already moved this node to a shorter path for it (§8.6: once per message).</summary>
    public bool Switched { get; set; }

    /// <summary>How old the message is at <paramref name="now"/>, counted from its first acceptance anywhere (§9.5).</summary>
    public TimeSpan AgeAt(TimeSpan now) => now - AcceptedAt + TimeSpan.FromMilliseconds(AgeAtAcceptanceMs);

    /// <summary>The <c>msg</c> frame that sends it on, one hop further.</summary>
    public PlumtreeMessage ToFrame(MessageId id, PlumtreeSendKind kind, bool authorTree, TimeSpan now) =>
        new(id with { Author = Author }, PayloadBytes, kind, Hops + 1, authorTree)
        {
            Line = Line,
            AgeMs = Line is null ? 0 : (long)AgeAt(now).TotalMilliseconds,
            Root = Root,
        };

    public bool HaveContains(int slot) => _have.Contains(slot);

    public void HaveAdd(int slot) => _have.Add(slot);

    public void HaveRemove(int slot) => _have.Remove(slot);
}
