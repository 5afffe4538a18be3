namespace SecureGossip.Protocol.Core;

/// <summary>
/// What a protocol sends to a neighbour in one go: a v1 line, or a v2 batch, digest or control message. The
/// driver never looks inside; it only counts what a frame costs.
/// </summary>
/// <remarks>
/// Frames are immutable once sent: the same instance may be sent to several neighbours and be in flight on
/// several links at once.
/// </remarks>
public interface IGossipFrame
{
    /// <summary>The frame's size on the wire in bytes, envelope included (for byte metrics).</summary>
    int SizeBytes { get; }

    /// <summary>
    /// How many message payloads the frame carries (0 for pure control traffic such as an IHAVE or a digest);
    /// relative message redundancy counts these. A frame that carries one message's payload should also implement
    /// <see cref="IGossipPayloadFrame"/>, so the payloads are charged to that message.
    /// </summary>
    int PayloadCount { get; }
}
