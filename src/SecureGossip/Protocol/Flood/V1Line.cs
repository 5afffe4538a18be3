using SecureGossip.Protocol.Core;

namespace SecureGossip.Protocol.Flood;

/// <summary>
/// One v1 wire line, <c>{"data":{…,"signature":…},"public":…,"seq":n}</c>: the message it carries, its size, how
/// many links this copy has crossed (known to the simulator only; 0 on real links) and, on real links, its bytes.
/// </summary>
public sealed class V1Line : IGossipPayloadFrame
{
    /// <summary>
    /// Bytes a simulated v1 line adds to its payload: the <c>public</c> key (~60), the signature (~100), <c>seq</c>
    /// and the envelope's punctuation, rounded to 200.
    /// </summary>
    public const int EnvelopeBytes = 200;

    /// <summary>A simulated line: no bytes, a size of <paramref name="payloadBytes"/> plus <see cref="EnvelopeBytes"/>.</summary>
    public V1Line(MessageId message, int payloadBytes, int hops)
    {
        Message = message;
        PayloadBytes = payloadBytes;
        Hops = hops;
        SizeBytes = payloadBytes + EnvelopeBytes;
    }

    /// <summary>A real line: <paramref name="line"/> is what is written (without its newline).</summary>
    public V1Line(MessageId message, byte[] line, int hops = 0)
    {
        ArgumentNullException.ThrowIfNull(line);
        Message = message;
        Line = line;
        PayloadBytes = line.Length;
        Hops = hops;
        SizeBytes = line.Length + 1;
    }

    /// <summary>The message the line carries.</summary>
    public MessageId Message { get; }

    /// <summary>The payload's size (a real line: the whole line).</summary>
    public int PayloadBytes { get; }

    /// <summary>Links this copy crossed since its author (simulation), or 0.</summary>
    public int Hops { get; }

    /// <summary>The line's bytes on real links (without the newline); null in the simulator.</summary>
    public byte[]? Line { get; }

    /// <inheritdoc/>
    public int SizeBytes { get; }

    /// <inheritdoc/>
    public int PayloadCount => 1;

    /// <summary>The same line one link further on.</summary>
    internal V1Line Forwarded() => Line is null ? new V1Line(Message, PayloadBytes, Hops + 1) : new V1Line(Message, Line, Hops + 1);
}
