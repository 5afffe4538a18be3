using SecureGossip.Protocol.Core;

namespace SecureGossip.Protocol;

/// <summary>
/// The v2 frame codec (docs/PROTOCOL.md §4): the core's frame records to one line of JSON and back. Writing is
/// <see cref="V2FrameWriter"/> (into an <see cref="System.Buffers.IBufferWriter{T}"/>), reading
/// <see cref="V2FrameReader"/>, each frame type's members its own codec; <c>hello</c> is read and written by
/// <see cref="V2Hello"/>. This type keeps the limits and the array-in, array-out entry points.
/// </summary>
internal static class V2Frames
{
    /// <summary>Most entries in one <c>ihave</c> (§4.1).</summary>
    public const int MaxIHaveIds = 512;

    /// <summary>Most signed plus legacy entries in one <c>sync</c> (§4.1).</summary>
    public const int MaxSyncEntries = 4096;

    /// <summary>Most seqs plus ids over all entries of one <c>sync</c>.</summary>
    public const int MaxSyncItems = 65_536;

    /// <summary>Most ids in one <c>want</c>.</summary>
    public const int MaxWantIds = 1024;

    /// <summary>Most seqs (and so most author entries) in one <c>want</c>'s <c>s</c>.</summary>
    public const int MaxWantSeqs = 1024;

    /// <summary>The largest hop count; a sender saturates at it (§4.1).</summary>
    public const int MaxHops = 65_535;

    /// <summary>Encodes one frame as a line without its trailing newline (<see cref="V2FrameWriter.Encode"/>).</summary>
    /// <exception cref="ArgumentException">The frame cannot go on the wire (<see cref="V2FrameWriter.Write"/> says why).</exception>
    public static byte[] Encode(IGossipFrame frame, V2Authors authors) => V2FrameWriter.Encode(frame, authors);

    /// <summary>
    /// Decodes one v2 frame (a line without its newline); never throws on any <paramref name="line"/>. See
    /// <see cref="V2FrameReader.TryRead(ReadOnlySpan{byte}, V2Authors, int, out IGossipFrame?, out string?)"/>.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> line, V2Authors authors, int maxJsonDepth, out IGossipFrame? frame, out string? error) =>
        V2FrameReader.TryRead(line, authors, maxJsonDepth, out frame, out error);
}
