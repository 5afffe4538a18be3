using System.Text;
using System.Text.Json;

namespace SecureGossip;

/// <summary>
/// A message accepted by a <see cref="GossipNode"/>: its author, the author's sequence number and the signed
/// payload without its <c>signature</c> field (what the JS package emits as <c>msg</c>).
/// </summary>
public sealed class GossipMessage
{
    private readonly byte[] _payload;
    private JsonElement? _element;

    internal GossipMessage(string author, double sequence, byte[] payloadUtf8, bool sequenceSigned = false)
    {
        Author = author;
        Sequence = sequence;
        SequenceSigned = sequenceSigned;
        _payload = payloadUtf8;
    }

    /// <summary>The author's public key string exactly as it was on the wire, e.g. <c>"…=.ed25519"</c> (the JS <c>info.public</c>).</summary>
    public string Author { get; }

    /// <summary>
    /// The author's sequence number. Every real publisher counts 0, 1, 2…; the 0.3.1 protocol does not sign it,
    /// so unless <see cref="SequenceSigned"/> it is only as trustworthy as the peer that relayed the message.
    /// </summary>
    public double Sequence { get; }

    /// <summary>
    /// Whether <see cref="Sequence"/> is covered by the author's signature (the author set
    /// <see cref="GossipNodeOptions.SignSequence"/>): then no relay can have changed it, and the <c>$sg</c>
    /// member that carries it is not part of <see cref="Payload"/>.
    /// </summary>
    public bool SequenceSigned { get; }

    /// <summary>The payload as compact JSON (UTF-8), as <c>JSON.stringify(msg)</c> prints it in JavaScript.</summary>
    public ReadOnlyMemory<byte> PayloadUtf8 => _payload;

    /// <summary>The payload as a JSON object element (parsed on first use).</summary>
    public JsonElement Payload => _element ??= JsonSerializer.Deserialize<JsonElement>(_payload);

    /// <summary>Deserializes the payload to <typeparamref name="T"/>.</summary>
    public T? Deserialize<T>(JsonSerializerOptions? options = null) => JsonSerializer.Deserialize<T>(_payload, options);

    /// <summary>The payload JSON text.</summary>
    public override string ToString() => Encoding.UTF8.GetString(_payload);
}
