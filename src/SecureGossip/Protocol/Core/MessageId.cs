namespace SecureGossip.Protocol.Core;

/// <summary>
/// Identifies one published message by its <see cref="Digest"/>: on real links the first 128 bits of SHA-256 over the
/// author's key and the signature (docs/PROTOCOL.md §3.3), which no relay can change; in the simulator a digest made of
/// the author and its seq. Real links and the simulator run the same code with the same identity.
/// </summary>
/// <remarks>
/// Two ids with a digest are equal when their digests are, whatever else they carry: a digest read from an
/// <c>ihave</c> has no author (<see cref="Author"/> is <see cref="UnknownAuthor"/> there), and <see cref="Sequence"/>
/// is informative only. The one id without a digest is a <c>want</c>'s seq entry as read from the wire (§4.2), which
/// names no message the core knows; such ids are equal by author and seq.
/// </remarks>
/// <param name="Author">The publishing node. In the simulator, a node index; a real driver interns each author key to a number.</param>
/// <param name="Sequence">The author's sequence number where the driver knows it (the simulator's, counting from 0 per author, for its metrics); <see cref="Unsequenced"/> otherwise.</param>
public readonly record struct MessageId(int Author, long Sequence)
{
    /// <summary>The <see cref="Sequence"/> of an id whose seq the driver does not track (real links).</summary>
    public const long Unsequenced = -1;

    /// <summary>The <see cref="Author"/> of an id whose author is not known (read from an announcement).</summary>
    public const int UnknownAuthor = -1;

    /// <summary>The message's digest; 0 only for an id named by seq on the wire (a <c>want</c>'s seq entry).</summary>
    public UInt128 Digest { get; init; }

    /// <summary>Whether the id names a message by its <see cref="Digest"/> (every message the core handles does).</summary>
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
