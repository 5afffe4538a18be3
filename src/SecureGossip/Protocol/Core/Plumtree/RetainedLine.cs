namespace SecureGossip.Protocol.Core;

/// <summary>A retained message of a real link: its line (shared by every frame that carries it) and claimed age.</summary>
internal sealed class RetainedLine(int author, int payloadBytes, int hops, int arrivalSlot, PlumtreeSendKind kind, TimeSpan acceptedAt)
    : Retained(author, payloadBytes, hops, arrivalSlot, kind, acceptedAt)
{
    public override byte[]? Line { get; init; }

    public override long AgeAtAcceptanceMs { get; init; }
}
