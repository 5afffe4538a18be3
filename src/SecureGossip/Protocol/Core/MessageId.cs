namespace SecureGossip.Protocol.Core;

/// <summary>
/// Identifies one published message. In the simulator: its author and the author's own sequence number. On real
/// links: its author and its <see cref="Digest"/>, the first 128 bits of SHA-256 over the author's key and the
/// signature (docs/PROTOCOL.md §3.3), which no relay can change.
/// </summary>
/// <remarks>
/// Two ids with a digest are equal when their digests are (a digest read from an <c>ihave</c> has no author, so
/// <see cref="Author"/> is <see cref="UnknownAuthor"/> there). Ids without a digest are equal by author and seq.
/// </remarks>
/// <param name="Author">The publishing node. In the simulator, a node index; a real driver interns each author key to a number.</param>
/// <param name="Sequence">The author's sequence number, counting from 0 per author; <see cref="Unsequenced"/> for an id known by its digest.</param>
public readonly record struct MessageId(int Author, long Sequence)
{
    /// <summary>The <see cref="Sequence"/> of a message tracked by its digest, not by a seq.</summary>
    public const long Unsequenced = -1;

    /// <summary>The <see cref="Author"/> of an id whose author is not known (read from an announcement).</summary>
    public const int UnknownAuthor = -1;

    /// <summary>The message's digest, or 0 for a simulated message known by author and seq.</summary>
    public UInt128 Digest { get; init; }

    /// <summary>Whether the message is tracked by its <see cref="Digest"/>.</summary>
    public bool HasDigest => Digest != UInt128.Zero;

    /// <summary>An id known by its digest.</summary>
    public static MessageId FromDigest(int author, UInt128 digest) => new(author, Unsequenced) { Digest = digest };

    /// <inheritdoc/>
    public bool Equals(MessageId other) => HasDigest || other.HasDigest
        ? Digest == other.Digest
        : Author == other.Author && Sequence == other.Sequence;

    /// <inheritdoc/>
    public override int GetHashCode() => HasDigest ? Digest.GetHashCode() : HashCode.Combine(Author, Sequence);
}
