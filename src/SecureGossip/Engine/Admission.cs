namespace SecureGossip.Engine;

/// <summary>What the <see cref="GossipEngine"/> decided about a message that arrived, before any verification.</summary>
public enum Admission
{
    /// <summary>New: the caller verifies it (it now holds the claim on its id) and then calls <see cref="GossipEngine.Commit"/>.</summary>
    Verify,

    /// <summary>A copy of a message whose first copy is being verified: commit it after that one, without verifying it unless the first turns out invalid.</summary>
    Wait,

    /// <summary>Already accepted (or, under the v1 seq rule, not above the author's highest seq): dropped, never verified.</summary>
    Duplicate,

    /// <summary>One of this node's own messages: dropped.</summary>
    Own,
}
