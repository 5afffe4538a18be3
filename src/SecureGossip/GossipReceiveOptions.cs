namespace SecureGossip;

/// <summary>Limits of a node's receive path (<see cref="GossipNodeOptions.Receive"/>).</summary>
public sealed class GossipReceiveOptions
{
    /// <summary>
    /// How many messages may be between the links' read loops and their commit at once (parsed, being verified, or
    /// waiting for an earlier one to be committed). Default 256 per core, at least 512: enough to keep every core
    /// verifying; a link whose messages would exceed it waits (backpressure reaches the sender through the transport),
    /// so a slow consumer cannot make the node buffer without bound.
    /// </summary>
    public int MaxInFlight { get; set; } = Receive.ReceiveWindow.DefaultSize;

    internal void Validate()
    {
        if (MaxInFlight < 2)
        {
            throw new ArgumentOutOfRangeException($"{nameof(GossipNodeOptions.Receive)}.{nameof(MaxInFlight)}", MaxInFlight, "At least 2 messages must be allowed in flight.");
        }
    }
}
