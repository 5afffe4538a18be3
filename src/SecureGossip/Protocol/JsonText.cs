using System.Globalization;

namespace SecureGossip.Protocol;

/// <summary>
/// Small scanners over JSON text that <see cref="System.Text.Json.Utf8JsonReader"/> has already validated
/// (RFC 8259 grammar, UTF-8, depth). They never see invalid input, so they do no error checking beyond
/// debug assertions; validation stays with the library.
/// </summary>
internal static class JsonText
{
    public static int SkipWhitespace(ReadOnlySpan<byte> json, int pos)
    {
        while (pos < json.Length)
        {
            byte b = json[pos];
            if (b != (byte)' ' && b != (byte)'\n' && b != (byte)'\r' && b != (byte)'\t')
            {
                break;
            }

            pos++;
        }

        return pos;
    }

    /// <summary>Scans the string whose opening quote is at <paramref name="pos"/>; returns the index after the closing quote.</summary>
    public static int ScanString(ReadOnlySpan<byte> json, int pos, out bool escaped)
    {
        System.Diagnostics.Debug.Assert(json[pos] == (byte)'"');
        escaped = false;
        pos++;
        while (true)
        {
            int next = json[pos..].IndexOfAny((byte)'"', (byte)'\\');
            System.Diagnostics.Debug.Assert(next >= 0);
            pos += next;
            if (json[pos] == (byte)'"')
            {
                return pos + 1;
            }

            escaped = true;
            pos += 2; // a backslash and the character it escapes; \uXXXX's hex digits are plain bytes
        }
    }

    /// <summary>Returns the index after the value that starts at <paramref name="pos"/>.</summary>
    public static int SkipValue(ReadOnlySpan<byte> json, int pos)
    {
        byte b = json[pos];
        if (b == (byte)'"')
        {
            return ScanString(json, pos, out _);
        }

        if (b == (byte)'{' || b == (byte)'[')
        {
            int depth = 0;
            while (true)
            {
                int next = json[pos..].IndexOfAny("\"{}[]"u8);
                pos += next;
                switch (json[pos])
                {
                    case (byte)'"':
                        pos = ScanString(json, pos, out _);
                        continue;
                    case (byte)'{':
                    case (byte)'[':
                        depth++;
                        break;
                    default:
                        depth--;
                        break;
                }

                pos++;
                if (depth == 0)
                {
                    return pos;
                }
            }
        }

        // Numbers and literals end at a delimiter.
        int end = json[pos..].IndexOfAny(" \t\r\n,]}"u8);
        return end < 0 ? json.Length : pos + end;
    }

    /// <summary>
    /// Decodes the contents of a JSON string (between its quotes) to generalized UTF-8: escapes resolved,
    /// an escaped surrogate pair joined into one code point, a lone escaped surrogate kept as its 3-byte
    /// form (WTF-8). Two keys are the same JavaScript property name exactly when these bytes are equal.
    /// </summary>
    public static void Unescape(ReadOnlySpan<byte> raw, ByteBuffer destination) => Decode(raw, destination, v8Escaping: false);

    /// <summary>
    /// Writes a string as V8's JSON.stringify does (ECMA-262 QuoteJSONString): only <c>"</c>, <c>\</c> and
    /// U+0000–U+001F are escaped (short forms for \b \f \n \r \t, else <c>\u00xx</c>), a lone surrogate as
    /// <c>\udxxx</c> in lowercase hex, every other character as raw UTF-8.
    /// </summary>
    /// <param name="raw">The string's contents on the wire, between the quotes, valid UTF-8.</param>
    /// <param name="escaped">Whether <paramref name="raw"/> contains any backslash escape.</param>
    /// <param name="destination">Where the quoted string goes.</param>
    public static void WriteV8String(ReadOnlySpan<byte> raw, bool escaped, ByteBuffer destination)
    {
        destination.Write((byte)'"');
        if (escaped)
        {
            Decode(raw, destination, v8Escaping: true);
        }
        else
        {
            // Valid JSON holds no raw quote, backslash or control character, and valid UTF-8 no surrogate:
            // nothing in it needs V8 escaping.
            destination.Write(raw);
        }

        destination.Write((byte)'"');
    }

    /// <summary>Resolves the escapes of <paramref name="raw"/>; each decoded code unit is written raw (WTF-8) or V8-escaped.</summary>
    private static void Decode(ReadOnlySpan<byte> raw, ByteBuffer destination, bool v8Escaping)
    {
        int i = 0;
        while (i < raw.Length)
        {
            int backslash = raw[i..].IndexOf((byte)'\\');
            if (backslash < 0)
            {
                destination.Write(raw[i..]);
                return;
            }

            destination.Write(raw.Slice(i, backslash));
            i += backslash;
            int codeUnit = ReadEscape(raw, ref i);
            if (char.IsHighSurrogate((char)codeUnit) && TryReadLowSurrogate(raw, ref i, out int low))
            {
                WriteCodePoint(char.ConvertToUtf32((char)codeUnit, (char)low), destination);
            }
            else if (v8Escaping)
            {
                WriteV8CodeUnit(codeUnit, destination);
            }
            else
            {
                WriteCodePoint(codeUnit, destination);
            }
        }
    }

    private static void WriteV8CodeUnit(int codeUnit, ByteBuffer destination)
    {
        switch (codeUnit)
        {
            case '"': destination.Write("\\\""u8); return;
            case '\\': destination.Write("\\\\"u8); return;
            case '\b': destination.Write("\\b"u8); return;
            case '\f': destination.Write("\\f"u8); return;
            case '\n': destination.Write("\\n"u8); return;
            case '\r': destination.Write("\\r"u8); return;
            case '\t': destination.Write("\\t"u8); return;
        }

        if (codeUnit < 0x20 || char.IsSurrogate((char)codeUnit))
        {
            Span<byte> escape = destination.GetSpan(6);
            escape[0] = (byte)'\\';
            escape[1] = (byte)'u';
            codeUnit.TryFormat(escape[2..], out _, "x4", CultureInfo.InvariantCulture);
            destination.Advance(6);
            return;
        }

        WriteCodePoint(codeUnit, destination);
    }

    /// <summary>Reads one escape at <paramref name="i"/> (the backslash) and returns the UTF-16 code unit it denotes.</summary>
    private static int ReadEscape(ReadOnlySpan<byte> raw, ref int i)
    {
        byte kind = raw[i + 1];
        i += 2;
        switch (kind)
        {
            case (byte)'b': return '\b';
            case (byte)'f': return '\f';
            case (byte)'n': return '\n';
            case (byte)'r': return '\r';
            case (byte)'t': return '\t';
            case (byte)'u':
                int value = ParseHex4(raw.Slice(i, 4));
                i += 4;
                return value;
            default:
                return kind; // \" \\ \/
        }
    }

    private static bool TryReadLowSurrogate(ReadOnlySpan<byte> raw, ref int i, out int low)
    {
        low = 0;
        if (i + 6 <= raw.Length && raw[i] == (byte)'\\' && raw[i + 1] == (byte)'u')
        {
            int candidate = ParseHex4(raw.Slice(i + 2, 4));
            if (char.IsLowSurrogate((char)candidate))
            {
                low = candidate;
                i += 6;
                return true;
            }
        }

        return false;
    }

    private static int ParseHex4(ReadOnlySpan<byte> hex)
    {
        int value = 0;
        foreach (byte h in hex)
        {
            value = (value << 4) | HexValue(h);
        }

        return value;
    }

    private static int HexValue(byte h) => h switch
    {
        >= (byte)'0' and <= (byte)'9' => h - '0',
        >= (byte)'a' and <= (byte)'f' => h - 'a' + 10,
        _ => h - 'A' + 10,
    };

    private static void WriteCodePoint(int codePoint, ByteBuffer destination)
    {
        Span<byte> span = destination.GetSpan(4);
        int length;
        if (codePoint < 0x80)
        {
            span[0] = (byte)codePoint;
            length = 1;
        }
        else if (codePoint < 0x800)
        {
            span[0] = (byte)(0xC0 | (codePoint >> 6));
            span[1] = (byte)(0x80 | (codePoint & 0x3F));
            length = 2;
        }
        else if (codePoint < 0x10000)
        {
            // Includes lone surrogates, kept as their generalized UTF-8 form.
            span[0] = (byte)(0xE0 | (codePoint >> 12));
            span[1] = (byte)(0x80 | ((codePoint >> 6) & 0x3F));
            span[2] = (byte)(0x80 | (codePoint & 0x3F));
            length = 3;
        }
        else
        {
            span[0] = (byte)(0xF0 | (codePoint >> 18));
            span[1] = (byte)(0x80 | ((codePoint >> 12) & 0x3F));
            span[2] = (byte)(0x80 | ((codePoint >> 6) & 0x3F));
            span[3] = (byte)(0x80 | (codePoint & 0x3F));
            length = 4;
        }

        destination.Advance(length);
    }
}
