namespace SecureGossip.Protocol;

/// <summary>Why a received line was not accepted.</summary>
public enum DropReason
{
    /// <summary>The line was accepted.</summary>
    None = 0,

    /// <summary>Not valid JSON (or not UTF-8 JSON that JSON.parse would read), or a JSON value other than an object.</summary>
    Malformed,

    /// <summary>Longer than <see cref="GossipNodeOptions.MaxLineLength"/>.</summary>
    TooLong,

    /// <summary>Nested deeper than <see cref="GossipNodeOptions.MaxJsonDepth"/>.</summary>
    TooDeep,

    /// <summary>Valid JSON, but not a secure-gossip envelope: <c>data</c>, <c>public</c>, <c>seq</c> or <c>data.signature</c> missing or of the wrong type.</summary>
    NotAMessage,

    /// <summary>The <c>public</c> key or the signature string does not decode to an ed25519 key or signature.</summary>
    BadKey,

    /// <summary>The signature does not verify.</summary>
    BadSignature,

    /// <summary>The node's own message came back.</summary>
    Own,

    /// <summary>A <c>seq</c> not above the highest already accepted from that author.</summary>
    Old,

    /// <summary>
    /// The signature verifies, but the message was published to another topic (its signed <c>$sg.topic</c> is not
    /// the node's <see cref="GossipNodeOptions.Topic"/>): a replay from a topic the relay is also on.
    /// </summary>
    WrongTopic,
}
