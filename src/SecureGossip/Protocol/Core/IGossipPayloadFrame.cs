namespace SecureGossip.Protocol.Core;

/// <summary>
/// A frame that carries the payload of exactly one message (a v1 line, a v2 <c>msg</c> whether pushed, grafted or
/// sent by anti-entropy). The simulator charges the frame's <see cref="IGossipFrame.PayloadCount"/> (normally 1) to
/// <see cref="Message"/>, which gives relative message redundancy per message and so over any subset of messages
/// (the steady state after a warm-up, the simulator's <c>rmr_steady</c>).
/// </summary>
/// <remarks>
/// A frame with <see cref="IGossipFrame.PayloadCount"/> &gt; 0 that does not implement this interface still counts
/// in the aggregate <c>rmr</c>, but not towards any one message; it is reported as
/// <c>payloads_unattributed</c> and makes <c>rmr_steady</c> unknown.
/// </remarks>
public interface IGossipPayloadFrame : IGossipFrame
{
    /// <summary>The message whose payload the frame carries.</summary>
    MessageId Message { get; }
}
