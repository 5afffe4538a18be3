namespace SecureGossip.Crypto;

/// <summary>
/// Decodes the key and signature strings of ssb-keys as its <c>toBuffer</c> does: a leading sigil
/// (<c>@</c>, <c>%</c>, <c>&amp;</c>) is dropped, the text is cut at the first <c>.</c> (the curve tag after it is
/// not read), and the rest is decoded with Node's lenient base64: characters of the standard or URL-safe
/// alphabet count, anything else is skipped, and the first <c>=</c> ends the data.
/// </summary>
internal static class SsbBase64
{
    private static readonly sbyte[] s_values = BuildTable();

    /// <summary>Decodes <paramref name="text"/> into <paramref name="destination"/>; returns the decoded length, or -1 if it does not fit.</summary>
    public static int Decode(ReadOnlySpan<char> text, Span<byte> destination) => DecodeCore(text, destination);

    /// <summary>
    /// The same decoding over the raw UTF-8 bytes of a JSON string that has no escapes. A byte of 0x80 or more
    /// belongs to a non-ASCII character, which node skips like any other character outside the alphabet.
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> utf8, Span<byte> destination) => DecodeCore(utf8, destination);

    private static int DecodeCore<T>(ReadOnlySpan<T> text, Span<byte> destination)
        where T : unmanaged, System.Numerics.IBinaryInteger<T>
    {
        if (text.Length > 0 && int.CreateTruncating(text[0]) is '@' or '%' or '&')
        {
            text = text[1..];
        }

        int dot = text.IndexOf(T.CreateTruncating('.'));
        if (dot >= 0)
        {
            text = text[..dot];
        }

        int written = 0;
        int accumulator = 0;
        int bits = 0;
        foreach (T unit in text)
        {
            int c = int.CreateTruncating(unit);
            if (c == '=')
            {
                break;
            }

            int value = c < 128 ? s_values[c] : -1;
            if (value < 0)
            {
                continue;
            }

            accumulator = (accumulator << 6) | value;
            bits += 6;
            if (bits >= 8)
            {
                bits -= 8;
                if (written == destination.Length)
                {
                    return -1;
                }

                destination[written++] = (byte)(accumulator >> bits);
                accumulator &= (1 << bits) - 1;
            }
        }

        return written;
    }

    private static sbyte[] BuildTable()
    {
        var table = new sbyte[128];
        Array.Fill(table, (sbyte)-1);
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < alphabet.Length; i++)
        {
            table[alphabet[i]] = (sbyte)i;
        }

        table['-'] = 62;
        table['_'] = 63;
        return table;
    }
}
