using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using SecureGossip.Crypto;
using SecureGossip.Engine;
using SecureGossip.Protocol;

namespace SecureGossip.Publishing;

/// <summary>
/// Signs what the node publishes and hands it to the actor: the payload checked, the seq taken, the line built as
/// the JS package builds it, written durably to the store first when there is one, then posted, in seq order.
/// </summary>
internal sealed class Publisher(NodeServices node, int self)
{
    private readonly Lock _turn = new();
    private long _nextSeq;

    /// <summary>The next seq is at least <paramref name="next"/> (a store's, at start).</summary>
    public void StartAt(long next) => _nextSeq = Math.Max(_nextSeq, next);

    public GossipMessage Publish(ReadOnlySpan<byte> utf8Json, out byte[] wireLine)
    {
        ValidatePayload(utf8Json);
        string? topic = node.Options.Topic.Id;
        if (!node.Options.SignSequence)
        {
            return topic is null
                ? Sign(utf8Json, signedSeq: null, withSg: false, out wireLine)
                : Sign(WithSg(utf8Json, seq: null, topic), signedSeq: null, withSg: true, out wireLine);
        }

        // The seq goes inside the signed bytes, so it is taken before signing; publishers take turns so that
        // lines still leave in seq order.
        lock (_turn)
        {
            long seq = _nextSeq;
            return Sign(WithSg(utf8Json, seq, topic), seq, withSg: true, out wireLine);
        }
    }

    /// <summary>
    /// The payload object with <c>"$sg":{"seq":n,"topic":"&lt;id&gt;"}</c> (either member only when given) appended as
    /// its last member (docs/PROTOCOL.md §3.2, §20).
    /// </summary>
    private static byte[] WithSg(ReadOnlySpan<byte> json, long? seq, string? topic)
    {
        ReadOnlySpan<byte> body = json.TrimEnd(" \t\r\n"u8);
        body = body[..^1]; // the closing brace of a validated object
        bool empty = body.TrimEnd(" \t\r\n"u8) is [.., (byte)'{'];
        string members = (seq, topic) switch
        {
            (long n, null) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"\"seq\":{n}"),
            (long n, string id) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"\"seq\":{n},\"topic\":\"{id}\""),
            _ => $"\"topic\":\"{topic}\"",
        };
        string member = $"{(empty ? string.Empty : ",")}\"$sg\":{{{members}}}}}";
        return [.. body, .. Encoding.UTF8.GetBytes(member)];
    }

    private GossipMessage Sign(ReadOnlySpan<byte> utf8Json, long? signedSeq, bool withSg, out byte[] wireLine)
    {
        GossipKeys keys = node.Keys;
        int start = JsonText.SkipWhitespace(utf8Json, 0);

        using var canonical = new ByteBuffer(utf8Json.Length * 2 + 64);
        V8Json.Shared.Write(utf8Json, start, canonical, indented: true, asSignedPayload: true);
        string signature = keys.Sign(canonical.WrittenSpan);

        canonical.Clear();
        V8Json.Shared.Write(utf8Json, start, canonical, indented: false, asSignedPayload: true);
        byte[] payload = canonical.ToArray();
        byte[] delivered = payload;
        if (withSg)
        {
            canonical.Clear();
            V8Json.Shared.Write(utf8Json, start, canonical, indented: false, asSignedPayload: true, withoutSignedSeq: true);
            delivered = canonical.ToArray();
        }

        Span<byte> signatureBytes = stackalloc byte[66];
        SsbBase64.Decode(signature.AsSpan(0, signature.IndexOf('.', StringComparison.Ordinal)), signatureBytes);
        UInt128 id = MessageIds.Of(keys.PublicKey, signatureBytes);

        // JSON.stringify({data: signObj(keys, payload), public, seq}): the signature is the data's last key.
        using var line = new ByteBuffer(payload.Length + signature.Length + keys.Public.Length + 64);
        line.Write("{\"data\":"u8);
        line.Write(payload.AsSpan(0, payload.Length - 1));
        line.Write(payload.Length > 2 ? ",\"signature\":\""u8 : "\"signature\":\""u8);
        line.Write(Encoding.ASCII.GetBytes(signature));
        line.Write("\"},\"public\":\""u8);
        line.Write(Encoding.ASCII.GetBytes(keys.Public));
        line.Write("\",\"seq\":"u8);

        long seq;
        lock (_turn)
        {
            // The seq is taken and the line posted in one turn, so lines leave in seq order: a receiver drops any seq
            // at or below one it has already accepted.
            seq = _nextSeq;
            System.Diagnostics.Debug.Assert(signedSeq is null || signedSeq == seq, "publishers take turns while the seq is signed");
            Utf8Formatter.TryFormat(seq, line.GetSpan(20), out int written);
            line.Advance(written);
            line.Write((byte)'}');
            if (line.Length > node.Options.MaxLineLength)
            {
                throw new ArgumentException($"The signed message is {line.Length} bytes; peers accept lines of at most {node.Options.MaxLineLength} bytes (GossipNodeOptions.MaxLineLength).", nameof(utf8Json));
            }

            _nextSeq++;
            wireLine = line.ToArray();
            // The actor writes the record and sends the line only once the record is committed (the next group commit):
            // after a restart this seq is never used again for a line that left.
            Storage.StoredMessage? record = node.Options.Store is null ? null : new Storage.StoredMessage(id, keys.Public, seq, Own: true, node.Time.GetUtcNow(), wireLine);
            if (!node.Actor.Post(new PublishWork(Protocol.Core.MessageId.FromDigest(self, id), wireLine, record)))
            {
                throw new ObjectDisposedException(nameof(GossipNode), "The node is stopping; the message was not published.");
            }
        }

        Interlocked.Increment(ref node.Counters.MessagesPublished);
        return new GossipMessage(keys.Public, seq, delivered, sequenceSigned: signedSeq is not null);
    }

    private void ValidatePayload(ReadOnlySpan<byte> json)
    {
        if (!Utf8.IsValid(json))
        {
            throw new ArgumentException("The payload is not valid UTF-8.", nameof(json));
        }

        // The envelope adds one level of nesting around the payload.
        int maxDepth = node.Options.MaxJsonDepth - 1;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                string kind = reader.TokenType switch
                {
                    JsonTokenType.StartArray => "an array",
                    JsonTokenType.String => "a string",
                    JsonTokenType.Number => "a number",
                    JsonTokenType.True or JsonTokenType.False => "a boolean",
                    JsonTokenType.Null => "null",
                    _ => "empty",
                };
                throw new ArgumentException($"The payload must be a JSON object; it is {kind}.", nameof(json));
            }

            while (reader.Read())
            {
                if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName &&
                    (reader.ValueTextEquals("signature"u8) || reader.ValueTextEquals("__proto__"u8) ||
                     ((node.Options.SignSequence || !node.Options.Topic.IsDefault) && reader.ValueTextEquals("$sg"u8))))
                {
                    throw new ArgumentException(reader.ValueTextEquals("$sg"u8)
                        ? node.Options.SignSequence
                            ? "The payload has a top-level \"$sg\" field, which SignSequence reserves for the signed seq."
                            : $"The payload has a top-level \"$sg\" field, which a topic's messages reserve for the signed topic ({node.Options.Topic.Name})."
                        : $"The payload has a top-level \"{reader.GetString()}\" field, which secure-gossip receivers remove before verifying: the message could not be verified.", nameof(json));
                }
            }
        }
        catch (JsonException e)
        {
            // System.Text.Json's message describes its own reader; say what is wrong with the text, and where.
            string where = e.BytePositionInLine is long at ? $" at byte {at + 1}" : "";
            string what = e.Message.Contains("depth", StringComparison.OrdinalIgnoreCase) && e.Message.Contains("maximum", StringComparison.OrdinalIgnoreCase)
                ? $"it nests deeper than {maxDepth} levels"
                : e.Message.Split(" LineNumber:", 2)[0].Split(" Path:", 2)[0].TrimEnd('.');
            throw new ArgumentException($"The payload is not valid JSON{where}: {what}.", nameof(json), e);
        }
    }
}
