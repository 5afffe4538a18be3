namespace SecureGossip;

/// <summary>See <see cref="GossipNode.DeliverySink"/>: prepare each message, then make a committed batch visible at once.</summary>
internal interface IDeliverySink
{
    /// <summary>An accepted message, before its id is committed: prepare its output, show nothing yet.</summary>
    void Prepare(GossipMessage message);

    /// <summary>Everything prepared so far is committed: make it visible.</summary>
    void Commit();
}
