using System.Text;
using System.Text.Json;

namespace SecureGossip.Protocol;

/// <summary>
/// One secure-gossip 0.3.1 wire line, located: <c>{"data":{…,"signature":"…"},"public":"…","seq":n}</c>.
/// Field semantics follow what the JS receiver does with <c>JSON.parse</c> and ssb-keys' <c>verifyObj</c>:
/// the last of duplicate keys wins, keys may be spelled with escapes, and <c>curve</c> on the envelope
/// (read by ssb-keys' getCurve) replaces the tag check on <c>public</c>.
/// </summary>
internal readonly struct V1Envelope
{
    public int DataStart { get; init; }

    public double Seq { get; init; }

    /// <summary>The raw (possibly escaped) contents of the <c>public</c> string.</summary>
    public Range Public { get; init; }

    public bool PublicEscaped { get; init; }

    /// <summary>The raw contents of <c>data.signature</c>.</summary>
    public Range Signature { get; init; }

    public bool SignatureEscaped { get; init; }

    /// <summary>Validates and locates the envelope in <paramref name="line"/> (valid UTF-8).</summary>
    public static DropReason TryParse(ReadOnlySpan<byte> line, int maxDepth, out V1Envelope envelope)
    {
        envelope = default;
        DropReason syntax = Validate(line, maxDepth);
        if (syntax != DropReason.None)
        {
            return syntax;
        }

        int pos = JsonText.SkipWhitespace(line, 0);
        if (line[pos] != (byte)'{')
        {
            return DropReason.NotAMessage;
        }

        int data = -1, publicAt = -1, seq = -1, curve = -1;
        Span<byte> keyBuffer = stackalloc byte[16];
        var members = new MemberEnumerator(line, pos, keyBuffer);
        while (members.MoveNext())
        {
            ReadOnlySpan<byte> key = members.Key;
            int value = members.Value;
            if (key.SequenceEqual("data"u8))
            {
                data = value;
            }
            else if (key.SequenceEqual("public"u8))
            {
                publicAt = value;
            }
            else if (key.SequenceEqual("seq"u8))
            {
                seq = value;
            }
            else if (key.SequenceEqual("curve"u8))
            {
                curve = value;
            }
        }

        if (data < 0 || line[data] != (byte)'{' || publicAt < 0 || line[publicAt] != (byte)'"' || seq < 0 || !IsNumber(line[seq]))
        {
            return DropReason.NotAMessage;
        }

        int publicEnd = JsonText.ScanString(line, publicAt, out bool publicEscaped);
        var publicRange = new Range(publicAt + 1, publicEnd - 1);
        if (publicRange.GetOffsetAndLength(line.Length).Length == 0)
        {
            return DropReason.NotAMessage; // "" || keys: ssb-keys would try to read the envelope as a key
        }

        if (curve >= 0 && IsTruthy(line, curve))
        {
            if (line[curve] != (byte)'"' || !StringEquals(line, curve, "ed25519"u8))
            {
                return DropReason.BadKey;
            }
        }
        else if (!HasEd25519Tag(line[publicRange], publicEscaped))
        {
            return DropReason.BadKey;
        }

        int signature = FindMember(line, data, "signature"u8, keyBuffer);
        if (signature < 0)
        {
            // ssb-keys reads obj.signature from its clone of data, whose prototype a "__proto__" member set:
            // a signature there is inherited, and found.
            int prototype = FindMember(line, data, "__proto__"u8, keyBuffer);
            if (prototype >= 0 && line[prototype] == (byte)'{')
            {
                signature = FindMember(line, prototype, "signature"u8, keyBuffer);
            }
        }

        if (signature < 0 || line[signature] != (byte)'"')
        {
            return DropReason.NotAMessage;
        }

        int signatureEnd = JsonText.ScanString(line, signature, out bool signatureEscaped);
        int seqEnd = JsonText.SkipValue(line, seq);
        envelope = new V1Envelope
        {
            DataStart = data,
            Seq = double.Parse(line[seq..seqEnd], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture),
            Public = publicRange,
            PublicEscaped = publicEscaped,
            Signature = new Range(signature + 1, signatureEnd - 1),
            SignatureEscaped = signatureEscaped,
        };
        return DropReason.None;
    }

    /// <summary>
    /// Reads a v2 author's signed seq, <c>"$sg":{"seq":n}</c> at the top of the payload (docs/PROTOCOL.md §3.2),
    /// with JSON.parse's rule for repeated keys (the last wins), which is what the author signed. Only an integer
    /// in [0, 2^53 − 1] counts; anything else makes the message an ordinary (legacy) one.
    /// </summary>
    internal static bool TryReadSignedSeq(ReadOnlySpan<byte> line, int dataStart, out long seq)
    {
        seq = 0;
        Span<byte> keyBuffer = stackalloc byte[16];
        int sg = FindMember(line, dataStart, "$sg"u8, keyBuffer);
        if (sg < 0 || line[sg] != (byte)'{')
        {
            return false;
        }

        int value = FindMember(line, sg, "seq"u8, keyBuffer);
        if (value < 0 || !IsNumber(line[value]))
        {
            return false;
        }

        double number = double.Parse(line[value..JsonText.SkipValue(line, value)], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
        if (number < 0 || number > 9007199254740991d || Math.Floor(number) != number)
        {
            return false;
        }

        seq = (long)number;
        return true;
    }

    /// <summary>
    /// Reads the topic a message was published to, <c>"$sg":{"topic":"&lt;id&gt;"}</c> at the top of the payload
    /// (docs/PROTOCOL.md §20), the last of repeated keys winning as with JSON.parse. True when the payload names one
    /// (any string); <paramref name="matches"/> says whether it is <paramref name="expected"/>.
    /// </summary>
    internal static bool TryReadSignedTopic(ReadOnlySpan<byte> line, int dataStart, out bool matches, string? expected)
    {
        matches = false;
        Span<byte> keyBuffer = stackalloc byte[16];
        int sg = FindMember(line, dataStart, "$sg"u8, keyBuffer);
        if (sg < 0 || line[sg] != (byte)'{')
        {
            return false;
        }

        int value = FindMember(line, sg, "topic"u8, keyBuffer);
        if (value < 0 || line[value] != (byte)'"')
        {
            return false;
        }

        // Ids are written as 64 plain hex digits; an escaped spelling of one is not an id this node wrote or reads.
        ReadOnlySpan<byte> text = line[(value + 1)..(JsonText.SkipValue(line, value) - 1)];
        if (expected is not null && text.Length == expected.Length)
        {
            matches = true;
            for (int i = 0; i < text.Length; i++)
            {
                matches &= text[i] == expected[i];
            }
        }

        return true;
    }

    /// <summary>The start of the value of the last member named <paramref name="name"/>, or -1.</summary>
    private static int FindMember(ReadOnlySpan<byte> json, int objectStart, ReadOnlySpan<byte> name, Span<byte> keyBuffer)
    {
        int found = -1;
        var members = new MemberEnumerator(json, objectStart, keyBuffer);
        while (members.MoveNext())
        {
            if (members.Key.SequenceEqual(name))
            {
                found = members.Value;
            }
        }

        return found;
    }

    /// <summary>Checks the JSON grammar as JSON.parse would, with a depth limit JSON.parse does not have.</summary>
    internal static DropReason Validate(ReadOnlySpan<byte> json, int maxDepth)
    {
        if (json.StartsWith("\xEF\xBB\xBF"u8))
        {
            return DropReason.Malformed; // JSON.parse rejects U+FEFF; the reader below would skip it
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = int.MaxValue - 1 });
        try
        {
            bool any = false;
            while (reader.Read())
            {
                any = true;
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth >= maxDepth)
                {
                    return DropReason.TooDeep;
                }
            }

            return any ? DropReason.None : DropReason.Malformed;
        }
        catch (JsonException)
        {
            return DropReason.Malformed;
        }
    }

    /// <summary>Decodes a JSON string's raw contents to a .NET string (escapes resolved).</summary>
    internal static string DecodeString(ReadOnlySpan<byte> raw, bool escaped)
    {
        if (!escaped)
        {
            return Encoding.UTF8.GetString(raw);
        }

        using var buffer = new ByteBuffer(raw.Length + 8);
        JsonText.Unescape(raw, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static bool HasEd25519Tag(ReadOnlySpan<byte> raw, bool escaped)
    {
        // ssb-keys' getTag: the text after the first '.', or the whole string when there is none.
        if (!escaped)
        {
            return raw[(raw.IndexOf((byte)'.') + 1)..].SequenceEqual("ed25519"u8);
        }

        string text = DecodeString(raw, escaped);
        int dot = text.IndexOf('.', StringComparison.Ordinal);
        return text.AsSpan(dot + 1).SequenceEqual("ed25519");
    }

    private static bool IsNumber(byte first) => first == (byte)'-' || (first >= (byte)'0' && first <= (byte)'9');

    private static bool StringEquals(ReadOnlySpan<byte> json, int at, ReadOnlySpan<byte> expected)
    {
        int end = JsonText.ScanString(json, at, out bool escaped);
        ReadOnlySpan<byte> raw = json[(at + 1)..(end - 1)];
        if (!escaped)
        {
            return raw.SequenceEqual(expected);
        }

        using var buffer = new ByteBuffer(raw.Length);
        JsonText.Unescape(raw, buffer);
        return buffer.WrittenSpan.SequenceEqual(expected);
    }

    /// <summary>JavaScript truthiness of the JSON value at <paramref name="at"/>.</summary>
    private static bool IsTruthy(ReadOnlySpan<byte> json, int at) => json[at] switch
    {
        (byte)'f' or (byte)'n' => false,
        (byte)'"' => json[at + 1] != (byte)'"',
        (byte)'t' or (byte)'{' or (byte)'[' => true,
        _ => double.Parse(json[at..JsonText.SkipValue(json, at)], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture) != 0,
    };

    /// <summary>Walks an object's members: (decoded key when short enough to matter, value start).</summary>
    private ref struct MemberEnumerator
    {
        private readonly ReadOnlySpan<byte> _json;
        private readonly Span<byte> _keyBuffer;
        private int _pos;
        private bool _done;

        public MemberEnumerator(ReadOnlySpan<byte> json, int objectStart, Span<byte> keyBuffer)
        {
            _json = json;
            _keyBuffer = keyBuffer;
            _pos = JsonText.SkipWhitespace(json, objectStart + 1);
            _done = json[_pos] == (byte)'}';
            Key = default;
            Value = -1;
        }

        public ReadOnlySpan<byte> Key { get; private set; }

        public int Value { get; private set; }

        public bool MoveNext()
        {
            if (_done)
            {
                return false;
            }

            int keyEnd = JsonText.ScanString(_json, _pos, out bool escaped);
            ReadOnlySpan<byte> key = _json[(_pos + 1)..(keyEnd - 1)];
            if (escaped)
            {
                // Only short keys can equal the field names we look for; longer ones decode to something else.
                key = key.Length <= 6 * _keyBuffer.Length ? Decode(key) : ReadOnlySpan<byte>.Empty;
            }

            int value = JsonText.SkipWhitespace(_json, JsonText.SkipWhitespace(_json, keyEnd) + 1);
            int next = JsonText.SkipWhitespace(_json, JsonText.SkipValue(_json, value));
            _done = _json[next] == (byte)'}';
            _pos = JsonText.SkipWhitespace(_json, next + 1);
            Key = key;
            Value = value;
            return true;
        }

        private readonly ReadOnlySpan<byte> Decode(ReadOnlySpan<byte> raw)
        {
            using var buffer = new ByteBuffer(raw.Length);
            JsonText.Unescape(raw, buffer);
            if (buffer.Length > _keyBuffer.Length)
            {
                return "\0"u8; // longer than every name we match
            }

            buffer.WrittenSpan.CopyTo(_keyBuffer);
            return _keyBuffer[..buffer.Length];
        }
    }
}
