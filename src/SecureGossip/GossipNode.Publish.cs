using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using SecureGossip.Crypto;
using SecureGossip.Protocol;

namespace SecureGossip;

public sealed partial class GossipNode
{
    /// <summary>
    /// Signs <paramref name="payload"/> and queues it for the next round (the JS <c>publish(obj)</c>).
    /// Any value that serializes to a JSON object works: a <see cref="System.Text.Json.Nodes.JsonObject"/>, a
    /// <see cref="JsonElement"/>, a record or class, a dictionary.
    /// </summary>
    /// <returns>The message as receivers will see it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="payload"/> is null.</exception>
    /// <exception cref="ArgumentException">The payload is not a JSON object, has a top-level <c>signature</c> or
    /// <c>__proto__</c> field, nests too deep, or makes a line longer than <see cref="GossipNodeOptions.MaxLineLength"/>.</exception>
    public GossipMessage Publish<T>(T payload, JsonSerializerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(payload);
        byte[] json = payload is JsonElement { ValueKind: JsonValueKind.Undefined }
            ? throw new ArgumentException("The payload is an undefined JsonElement; it must be a JSON object.", nameof(payload))
            : JsonSerializer.SerializeToUtf8Bytes(payload, options);
        return PublishJson(json);
    }

    /// <summary>Signs and queues a payload given as JSON text.</summary>
    /// <exception cref="ArgumentException">The text is not a JSON object (see <see cref="Publish{T}"/>).</exception>
    public GossipMessage PublishJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return PublishJson(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Signs and queues a payload given as UTF-8 JSON.</summary>
    /// <exception cref="ArgumentException">The bytes are not a JSON object (see <see cref="Publish{T}"/>).</exception>
    public GossipMessage PublishJson(ReadOnlySpan<byte> utf8Json) => PublishJson(utf8Json, out _);

    /// <summary>Publishes and also returns the wire line (without its newline) queued for the next round.</summary>
    internal GossipMessage PublishJson(ReadOnlySpan<byte> utf8Json, out byte[] wireLine)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        ValidatePayload(utf8Json);
        if (!_options.SignSequence)
        {
            if (_options.Store is null)
            {
                return Sign(utf8Json, signedSeq: null, out wireLine);
            }

            // The store write happens between taking the seq and queueing the line; publishers take turns so
            // lines still leave in seq order.
            lock (_publishTurn)
            {
                return Sign(utf8Json, signedSeq: null, out wireLine);
            }
        }

        // The seq goes inside the signed bytes, so it is taken before signing; publishers take turns so that
        // lines still leave in seq order.
        lock (_publishTurn)
        {
            long seq;
            lock (_gate)
            {
                seq = _nextSeq;
            }

            return Sign(WithSignedSeq(utf8Json, seq), seq, out wireLine);
        }
    }

    /// <summary>The payload object with <c>"$sg":{"seq":n}</c> appended as its last member (docs/PROTOCOL.md §3.2).</summary>
    private static byte[] WithSignedSeq(ReadOnlySpan<byte> json, long seq)
    {
        ReadOnlySpan<byte> body = json.TrimEnd(" \t\r\n"u8);
        body = body[..^1]; // the closing brace of a validated object
        bool empty = body.TrimEnd(" \t\r\n"u8) is [.., (byte)'{'];
        string member = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{(empty ? string.Empty : ",")}\"$sg\":{{\"seq\":{seq}}}}}");
        return [.. body, .. Encoding.UTF8.GetBytes(member)];
    }

    private GossipMessage Sign(ReadOnlySpan<byte> utf8Json, long? signedSeq, out byte[] wireLine)
    {
        int start = JsonText.SkipWhitespace(utf8Json, 0);

        using var canonical = new ByteBuffer(utf8Json.Length * 2 + 64);
        V8Json.Shared.Write(utf8Json, start, canonical, indented: true, asSignedPayload: true);
        string signature = Keys.Sign(canonical.WrittenSpan);

        canonical.Clear();
        V8Json.Shared.Write(utf8Json, start, canonical, indented: false, asSignedPayload: true);
        byte[] payload = canonical.ToArray();
        byte[] delivered = payload;
        if (signedSeq is not null)
        {
            canonical.Clear();
            V8Json.Shared.Write(utf8Json, start, canonical, indented: false, asSignedPayload: true, withoutSignedSeq: true);
            delivered = canonical.ToArray();
        }

        // JSON.stringify({data: signObj(keys, payload), public, seq}): the signature is the data's last key.
        using var line = new ByteBuffer(payload.Length + signature.Length + Keys.Public.Length + 64);
        line.Write("{\"data\":"u8);
        line.Write(payload.AsSpan(0, payload.Length - 1));
        line.Write(payload.Length > 2 ? ",\"signature\":\""u8 : "\"signature\":\""u8);
        line.Write(Encoding.ASCII.GetBytes(signature));
        line.Write("\"},\"public\":\""u8);
        line.Write(Encoding.ASCII.GetBytes(Keys.Public));
        line.Write("\",\"seq\":"u8);

        long seq;
        lock (_gate)
        {
            // The seq is taken and the line queued under one lock, so lines leave in seq order: a receiver
            // drops any seq at or below one it has already accepted.
            seq = _nextSeq;
            System.Diagnostics.Debug.Assert(signedSeq is null || signedSeq == seq, "publishers take turns while the seq is signed");
            Utf8Formatter.TryFormat(seq, line.GetSpan(20), out int written);
            line.Advance(written);
            line.Write((byte)'}');
            if (line.Length > _options.MaxLineLength)
            {
                throw new ArgumentException($"The signed message is {line.Length} bytes; peers accept lines of at most {_options.MaxLineLength} bytes (GossipNodeOptions.MaxLineLength).", nameof(utf8Json));
            }

            _nextSeq++;
            wireLine = line.ToArray();
            if (_options.Store is null)
            {
                _store.Add(wireLine);
            }
        }

        if (_options.Store is not null || _core is not null)
        {
            Span<byte> signatureBytes = stackalloc byte[66];
            SsbBase64.Decode(signature.AsSpan(0, signature.IndexOf('.', StringComparison.Ordinal)), signatureBytes);
            UInt128 id = MessageIdOf(Keys.PublicKey, signatureBytes);
            if (_options.Store is { } store)
            {
                // Durable before the line can leave: after a restart this seq is never used again.
                store.Add(new Storage.StoredMessage(id, Keys.Public, seq, Own: true, _options.TimeProvider.GetUtcNow(), wireLine), durable: true);
                lock (_gate)
                {
                    _store.Add(wireLine);
                }
            }

            if (_core is not null)
            {
                byte[] published = wireLine;
                PostCore(() => _core.Protocol.Publish(_core, Protocol.Core.MessageId.FromDigest(_core.Self, id), published));
            }
        }

        Interlocked.Increment(ref _counters.MessagesPublished);
        return new GossipMessage(Keys.Public, seq, delivered, sequenceSigned: signedSeq is not null);
    }

    private void ValidatePayload(ReadOnlySpan<byte> json)
    {
        if (!Utf8.IsValid(json))
        {
            throw new ArgumentException("The payload is not valid UTF-8.", nameof(json));
        }

        // The envelope adds one level of nesting around the payload.
        int maxDepth = _options.MaxJsonDepth - 1;
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
                     (_options.SignSequence && reader.ValueTextEquals("$sg"u8))))
                {
                    throw new ArgumentException(reader.ValueTextEquals("$sg"u8)
                        ? "The payload has a top-level \"$sg\" field, which SignSequence reserves for the signed seq."
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
