using System.Globalization;
using System.Text;

namespace SecureGossip.Tests.Fuzz;

/// <summary>
/// The fuzzer's own JSON tree: what a line means to JavaScript, kept apart from how it is spelled on the wire.
/// It is the test's independent model of <c>JSON.stringify(JSON.parse(x), null, 2)</c> (ECMA-262 property order:
/// array-index keys ascending, then the others by first insertion; a repeated key keeps its first position and
/// its last value; strings escaped as QuoteJSONString does), so the node's canonical form can be checked against
/// it, and of the many wire spellings of one value (white space, escapes, number forms, repeated keys).
/// </summary>
/// <remarks>
/// Strings are .NET strings, so they can hold lone surrogates as JavaScript strings can. A number keeps its wire
/// text and, when the generator knows it, its Number::toString form (<see cref="Canonical"/>).
/// </remarks>
internal sealed class FuzzJson
{
    private FuzzJson(FuzzJsonKind kind) => Kind = kind;

    public FuzzJsonKind Kind { get; }

    /// <summary>Members of an object, in wire order, repeats included.</summary>
    public List<KeyValuePair<string, FuzzJson>> Members { get; } = [];

    /// <summary>Items of an array.</summary>
    public List<FuzzJson> Items { get; } = [];

    /// <summary>A string's value, or a number's wire text.</summary>
    public string Text { get; set; } = string.Empty;

    /// <summary>A number's Number::toString form, or <see langword="null"/> when the model does not know it.</summary>
    public string? Canonical { get; set; }

    public static FuzzJson Object(params KeyValuePair<string, FuzzJson>[] members)
    {
        var value = new FuzzJson(FuzzJsonKind.Object);
        value.Members.AddRange(members);
        return value;
    }

    public static FuzzJson Array(params FuzzJson[] items)
    {
        var value = new FuzzJson(FuzzJsonKind.Array);
        value.Items.AddRange(items);
        return value;
    }

    public static FuzzJson String(string text) => new(FuzzJsonKind.String) { Text = text };

    public static FuzzJson Number(string wire, string? canonical) => new(FuzzJsonKind.Number) { Text = wire, Canonical = canonical };

    public static FuzzJson Integer(long value)
    {
        string text = value.ToString(CultureInfo.InvariantCulture);
        return Number(text, Math.Abs(value) < (1L << 53) ? text : null);
    }

    public static FuzzJson Literal(FuzzJsonKind kind) => new(kind);

    public static KeyValuePair<string, FuzzJson> Member(string key, FuzzJson value) => new(key, value);

    /// <summary>A deep copy, so a mutation never touches the genuine tree.</summary>
    public FuzzJson Clone()
    {
        var copy = new FuzzJson(Kind) { Text = Text, Canonical = Canonical };
        foreach (KeyValuePair<string, FuzzJson> member in Members)
        {
            copy.Members.Add(new(member.Key, member.Value.Clone()));
        }

        foreach (FuzzJson item in Items)
        {
            copy.Items.Add(item.Clone());
        }

        return copy;
    }

    /// <summary>The value of the last member named <paramref name="key"/> (JSON.parse's rule), or <see langword="null"/>.</summary>
    public FuzzJson? Get(string key)
    {
        FuzzJson? found = null;
        foreach (KeyValuePair<string, FuzzJson> member in Members)
        {
            if (member.Key == key)
            {
                found = member.Value;
            }
        }

        return found;
    }

    /// <summary>Whether every number in the tree has a known canonical form (so the model can predict the output).</summary>
    public bool IsModelled() => Kind switch
    {
        FuzzJsonKind.Number => Canonical is not null,
        FuzzJsonKind.Object => Members.TrueForAll(m => m.Value.IsModelled()),
        FuzzJsonKind.Array => Items.TrueForAll(i => i.IsModelled()),
        _ => true,
    };

    /// <summary>Nesting depth: 1 for an empty object or array, 0 for a scalar.</summary>
    public int Depth() => Kind switch
    {
        FuzzJsonKind.Object => 1 + Members.Select(m => m.Value.Depth()).DefaultIfEmpty(0).Max(),
        FuzzJsonKind.Array => 1 + Items.Select(i => i.Depth()).DefaultIfEmpty(0).Max(),
        _ => 0,
    };

    // ---- The JavaScript view: JSON.stringify(JSON.parse(wire)) ----

    /// <summary>
    /// <c>JSON.stringify(value, null, indented ? 2 : undefined)</c> as UTF-8 (lone surrogates escaped, as V8 does).
    /// With <paramref name="leaveOut"/>, top-level members of those names are left out (ssb-keys' verifyObj deletes
    /// <c>signature</c>; a .NET receiver hands a signed-seq payload over without <c>$sg</c>).
    /// </summary>
    public byte[] Stringify(bool indented, params string[] leaveOut)
    {
        var builder = new StringBuilder();
        WriteCanonical(builder, indented, 0, leaveOut);
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    /// <summary>The members JavaScript sees, in ECMA-262 OrdinaryOwnPropertyKeys order, each with its last value.</summary>
    public List<KeyValuePair<string, FuzzJson>> OwnProperties()
    {
        var position = new Dictionary<string, int>(StringComparer.Ordinal);
        var ordered = new List<KeyValuePair<string, FuzzJson>>();
        foreach (KeyValuePair<string, FuzzJson> member in Members)
        {
            if (position.TryGetValue(member.Key, out int at))
            {
                ordered[at] = member;
            }
            else
            {
                position[member.Key] = ordered.Count;
                ordered.Add(member);
            }
        }

        List<KeyValuePair<string, FuzzJson>> indices = [.. ordered.Where(m => ArrayIndex(m.Key) >= 0).OrderBy(m => ArrayIndex(m.Key))];
        return [.. indices, .. ordered.Where(m => ArrayIndex(m.Key) < 0)];
    }

    /// <summary>ECMA-262 array index: the canonical numeric string of an integer in [0, 2^32 − 2].</summary>
    public static long ArrayIndex(string key)
    {
        if (key.Length is 0 or > 10 || (key.Length > 1 && key[0] == '0') || !key.All(char.IsAsciiDigit))
        {
            return -1;
        }

        long value = long.Parse(key, CultureInfo.InvariantCulture);
        return value <= 4294967294L ? value : -1;
    }

    private void WriteCanonical(StringBuilder builder, bool indented, int level, string[] leaveOut)
    {
        switch (Kind)
        {
            case FuzzJsonKind.Object:
                List<KeyValuePair<string, FuzzJson>> members = OwnProperties();
                if (leaveOut.Length > 0)
                {
                    members.RemoveAll(m => leaveOut.Contains(m.Key, StringComparer.Ordinal));
                }

                if (members.Count == 0)
                {
                    builder.Append("{}");
                    return;
                }

                builder.Append('{');
                for (int i = 0; i < members.Count; i++)
                {
                    builder.Append(i > 0 ? "," : string.Empty);
                    NewLine(builder, indented, level + 1);
                    QuoteJsonString(builder, members[i].Key);
                    builder.Append(indented ? ": " : ":");
                    members[i].Value.WriteCanonical(builder, indented, level + 1, []);
                }

                NewLine(builder, indented, level);
                builder.Append('}');
                return;
            case FuzzJsonKind.Array:
                if (Items.Count == 0)
                {
                    builder.Append("[]");
                    return;
                }

                builder.Append('[');
                for (int i = 0; i < Items.Count; i++)
                {
                    builder.Append(i > 0 ? "," : string.Empty);
                    NewLine(builder, indented, level + 1);
                    Items[i].WriteCanonical(builder, indented, level + 1, []);
                }

                NewLine(builder, indented, level);
                builder.Append(']');
                return;
            case FuzzJsonKind.String:
                QuoteJsonString(builder, Text);
                return;
            case FuzzJsonKind.Number:
                builder.Append(Canonical ?? throw new InvalidOperationException($"The model does not know the canonical form of {Text}."));
                return;
            case FuzzJsonKind.True:
                builder.Append("true");
                return;
            case FuzzJsonKind.False:
                builder.Append("false");
                return;
            default:
                builder.Append("null");
                return;
        }
    }

    private static void NewLine(StringBuilder builder, bool indented, int level)
    {
        if (indented)
        {
            builder.Append('\n').Append(' ', level * 2);
        }
    }

    /// <summary>ECMA-262 QuoteJSONString (ES2019 well-formed JSON.stringify).</summary>
    private static void QuoteJsonString(StringBuilder builder, string text)
    {
        builder.Append('"');
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '"': builder.Append("\\\""); continue;
                case '\\': builder.Append("\\\\"); continue;
                case '\b': builder.Append("\\b"); continue;
                case '\f': builder.Append("\\f"); continue;
                case '\n': builder.Append("\\n"); continue;
                case '\r': builder.Append("\\r"); continue;
                case '\t': builder.Append("\\t"); continue;
            }

            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                builder.Append(c).Append(text[++i]);
            }
            else if (c < 0x20 || char.IsSurrogate(c))
            {
                builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        builder.Append('"');
    }

    // ---- Wire spellings ----

    /// <summary>
    /// One of the many wire spellings of this value: random white space, escapes for any character (upper or lower
    /// hex), <c>\/</c>, raw or escaped surrogate pairs, and each number as its <see cref="Text"/>. Lone surrogates
    /// are always escaped (they have no UTF-8). With no <paramref name="random"/>, the plainest spelling.
    /// </summary>
    public byte[] ToWire(Random? random)
    {
        var output = new List<byte>(256);
        WriteWire(output, random);
        return [.. output];
    }

    private void WriteWire(List<byte> output, Random? random)
    {
        switch (Kind)
        {
            case FuzzJsonKind.Object:
                output.Add((byte)'{');
                Space(output, random);
                for (int i = 0; i < Members.Count; i++)
                {
                    if (i > 0)
                    {
                        output.Add((byte)',');
                        Space(output, random);
                    }

                    WireString(output, Members[i].Key, random);
                    Space(output, random);
                    output.Add((byte)':');
                    Space(output, random);
                    Members[i].Value.WriteWire(output, random);
                    Space(output, random);
                }

                output.Add((byte)'}');
                return;
            case FuzzJsonKind.Array:
                output.Add((byte)'[');
                Space(output, random);
                for (int i = 0; i < Items.Count; i++)
                {
                    if (i > 0)
                    {
                        output.Add((byte)',');
                        Space(output, random);
                    }

                    Items[i].WriteWire(output, random);
                    Space(output, random);
                }

                output.Add((byte)']');
                return;
            case FuzzJsonKind.String:
                WireString(output, Text, random);
                return;
            case FuzzJsonKind.Number:
                output.AddRange(Encoding.ASCII.GetBytes(Text));
                return;
            case FuzzJsonKind.True:
                output.AddRange("true"u8);
                return;
            case FuzzJsonKind.False:
                output.AddRange("false"u8);
                return;
            default:
                output.AddRange("null"u8);
                return;
        }
    }

    private static void Space(List<byte> output, Random? random)
    {
        if (random is null || random.Next(8) != 0)
        {
            return;
        }

        int count = 1 + random.Next(3);
        for (int i = 0; i < count; i++)
        {
            output.Add(" \t\r\n"u8[random.Next(4)]);
        }
    }

    private static void WireString(List<byte> output, string text, Random? random)
    {
        output.Add((byte)'"');
        bool escapeMany = random is not null && random.Next(6) == 0;
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            bool pair = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            bool mustEscape = c is '"' or '\\' || c < 0x20 || (char.IsSurrogate(c) && !pair);
            bool escape = mustEscape || (escapeMany && random!.Next(3) == 0);
            if (!escape)
            {
                int length = new Rune(pair ? char.ConvertToUtf32(c, text[i + 1]) : c).EncodeToUtf8(utf8);
                for (int b = 0; b < length; b++)
                {
                    output.Add(utf8[b]);
                }

                i += pair ? 1 : 0;
                continue;
            }

            string? shortForm = c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\b' => "\\b",
                '\f' => "\\f",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '/' => "\\/",
                _ => null,
            };
            if (shortForm is not null && (random is null || random.Next(4) != 0))
            {
                output.AddRange(Encoding.ASCII.GetBytes(shortForm));
                continue;
            }

            // \uXXXX of one code unit; a pair's second half follows on the next turn, raw or escaped alike is
            // invalid, so it is escaped too.
            Hex(output, c, random);
            if (pair)
            {
                Hex(output, text[++i], random);
            }
        }

        output.Add((byte)'"');
    }

    private static void Hex(List<byte> output, char c, Random? random)
    {
        string hex = ((int)c).ToString(random is not null && random.Next(2) == 0 ? "X4" : "x4", CultureInfo.InvariantCulture);
        output.AddRange("\\u"u8);
        output.AddRange(Encoding.ASCII.GetBytes(hex));
    }

    // ---- Reading (for frames the codec wrote: plain ASCII JSON) ----

    /// <summary>Parses valid JSON into the model; numbers keep their text, and their canonical form when they are small integers.</summary>
    public static FuzzJson Parse(ReadOnlySpan<byte> json)
    {
        string text = Encoding.UTF8.GetString(json);
        int pos = 0;
        FuzzJson value = ParseValue(text, ref pos);
        return value;
    }

    private static FuzzJson ParseValue(string text, ref int pos)
    {
        SkipSpace(text, ref pos);
        char c = text[pos];
        switch (c)
        {
            case '{':
            {
                var value = Object();
                pos++;
                SkipSpace(text, ref pos);
                if (text[pos] == '}')
                {
                    pos++;
                    return value;
                }

                while (true)
                {
                    SkipSpace(text, ref pos);
                    string key = ParseString(text, ref pos);
                    SkipSpace(text, ref pos);
                    pos++; // ':'
                    value.Members.Add(new(key, ParseValue(text, ref pos)));
                    SkipSpace(text, ref pos);
                    if (text[pos++] == '}')
                    {
                        return value;
                    }
                }
            }

            case '[':
            {
                var value = Array();
                pos++;
                SkipSpace(text, ref pos);
                if (text[pos] == ']')
                {
                    pos++;
                    return value;
                }

                while (true)
                {
                    value.Items.Add(ParseValue(text, ref pos));
                    SkipSpace(text, ref pos);
                    if (text[pos++] == ']')
                    {
                        return value;
                    }
                }
            }

            case '"':
                return String(ParseString(text, ref pos));
            case 't':
                pos += 4;
                return Literal(FuzzJsonKind.True);
            case 'f':
                pos += 5;
                return Literal(FuzzJsonKind.False);
            case 'n':
                pos += 4;
                return Literal(FuzzJsonKind.Null);
            default:
                int start = pos;
                while (pos < text.Length && "+-0123456789.eE".Contains(text[pos], StringComparison.Ordinal))
                {
                    pos++;
                }

                string number = text[start..pos];
                return long.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer) && number != "-0"
                    ? Integer(integer)
                    : Number(number, null);
        }
    }

    private static string ParseString(string text, ref int pos)
    {
        var builder = new StringBuilder();
        pos++;
        while (text[pos] != '"')
        {
            char c = text[pos++];
            if (c != '\\')
            {
                builder.Append(c);
                continue;
            }

            char kind = text[pos++];
            builder.Append(kind switch
            {
                'b' => '\b',
                'f' => '\f',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'u' => (char)int.Parse(text.AsSpan(pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                _ => kind,
            });
            pos += kind == 'u' ? 4 : 0;
        }

        pos++;
        return builder.ToString();
    }

    private static void SkipSpace(string text, ref int pos)
    {
        while (pos < text.Length && text[pos] is ' ' or '\t' or '\r' or '\n')
        {
            pos++;
        }
    }
}
