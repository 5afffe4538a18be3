namespace SecureGossip.Receive;

/// <summary>An author the node has seen in a line: its key, and what the actor tracks of it.</summary>
internal sealed class AuthorEntry(string name, NSec.Cryptography.PublicKey key, byte[] rawKey, int number)
{
    /// <summary>The author's key exactly as lines spell it (the v1 seq rule keys on the spelling, as secure-gossip 0.3.1).</summary>
    public string Name { get; } = name;

    public NSec.Cryptography.PublicKey Key { get; } = key;

    public byte[] RawKey { get; } = rawKey;

    /// <summary>The author's number for the engine's v1 seq rule (unique per spelling, never reused).</summary>
    public int Number { get; } = number;

    /// <summary>The author's number in message ids and the v2 core (-1 until a message of it is accepted).</summary>
    public int Index { get; set; } = -1;

    /// <summary>A message of this author was accepted.</summary>
    public bool HasAccepted { get; set; }

    /// <summary>Lines of this author admitted and not yet committed.</summary>
    public int Claims { get; set; }
}
