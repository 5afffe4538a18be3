namespace SecureGossip.Engine;

/// <summary>What <see cref="GossipEngine.Commit"/> did with a verified (or rejected) message.</summary>
public enum Outcome
{
    /// <summary>Accepted: new, valid, remembered and handed to the protocol modules to forward. The caller delivers it.</summary>
    Accepted,

    /// <summary>Another copy was accepted first: dropped.</summary>
    Duplicate,

    /// <summary>Its signature did not verify: dropped.</summary>
    Invalid,
}
