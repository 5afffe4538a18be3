using SecureGossip.Protocol.Core;
namespace SecureGossip.Simulation;

/// <summary>
/// One v1 wire line, <c>{"data":{…,"signature":…},"public":…,"seq":n}\n</c>, as the simulator sees it: who wrote
/// it, how big it is, and (simulation only, not on the wire) how many links this copy has crossed on arrival.
/// </summary>
internal sealed class V1Line(MessageId message, int payloadBytes, int hops) : IGossipFrame
{
    /// <summary>
    /// Bytes a v1 line adds to its payload: the <c>public</c> key (~60), the signature (~100), <c>seq</c> and the
    /// envelope's punctuation, rounded to 200.
    /// </summary>
    public const int EnvelopeBytes = 200;

    public MessageId Message { get; } = message;

    public int PayloadBytes { get; } = payloadBytes;

    public int Hops { get; } = hops;

    public int SizeBytes => PayloadBytes + EnvelopeBytes;

    public int PayloadCount => 1;
}
