using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text.Json;

namespace SecureGossip.Protocol;

/// <summary>
/// The JSON values the v2 frame codecs share (docs/PROTOCOL.md §4.1): message ids, author keys, bounded integers.
/// </summary>
/// <remarks>
/// A message id on the wire is the 128-bit <see cref="Core.MessageId.Digest"/> in little-endian order, as standard
/// padded base64 (24 characters).
/// </remarks>
internal static class V2Json
{
    private const int IdBytes = 16;
    private const int IdChars = 24;

    /// <summary>Writes a message id; the frame was validated beforehand, so the digest is never zero here.</summary>
    public static void WriteId(Utf8JsonWriter writer, UInt128 digest)
    {
        System.Diagnostics.Debug.Assert(digest != UInt128.Zero, "validated before writing");
        Span<byte> raw = stackalloc byte[IdBytes];
        BinaryPrimitives.WriteUInt128LittleEndian(raw, digest);
        Span<byte> text = stackalloc byte[IdChars];
        OperationStatus status = Base64.EncodeToUtf8(raw, text, out _, out int written);
        System.Diagnostics.Debug.Assert(status == OperationStatus.Done && written == IdChars);
        writer.WriteStringValue(text);
    }

    /// <summary>Throws unless <paramref name="digest"/> can go on the wire as an id.</summary>
    /// <exception cref="ArgumentException">The id has no digest.</exception>
    public static void CheckId(UInt128 digest, string what)
    {
        if (digest == UInt128.Zero)
        {
            throw new ArgumentException($"{what}: an id without a digest cannot go on the wire.");
        }
    }

    /// <summary>Throws as <see cref="V2Authors.NameOf"/> would for an author index it never returned.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="author"/> was not interned in <paramref name="authors"/>.</exception>
    public static void CheckAuthor(V2Authors authors, int author)
    {
        // Authors are only ever added, so an index valid now is still valid when the frame is written.
        ArgumentOutOfRangeException.ThrowIfNegative(author);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(author, authors.Count);
    }

    /// <summary>Reads an author key at the reader's token and interns it.</summary>
    public static bool TryReadAuthor(ref Utf8JsonReader reader, V2Authors authors, out int author)
    {
        author = -1;
        return reader.TokenType == JsonTokenType.String && authors.TryIntern(Text(ref reader), out author);
    }

    /// <summary>An integer in <paramref name="min"/>..<paramref name="max"/>.</summary>
    public static bool TryGetInt(ref Utf8JsonReader reader, int min, int max, out int value)
    {
        value = 0;
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out value) && value >= min && value <= max;
    }

    /// <summary>An integer ≥ 0 (a seq or a floor).</summary>
    public static bool TryGetLong(ref Utf8JsonReader reader, out long value)
    {
        value = 0;
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out value) && value >= 0;
    }

    /// <summary>
    /// A message id: a string of exactly 24 characters of standard base64 with its two <c>=</c> of padding and zero
    /// unused bits, so each id has one spelling; a zero digest is not an id.
    /// </summary>
    public static bool TryReadId(ref Utf8JsonReader reader, out UInt128 digest)
    {
        digest = UInt128.Zero;
        if (reader.TokenType != JsonTokenType.String)
        {
            return false;
        }

        ReadOnlySpan<byte> text = Text(ref reader);
        if (text.Length != IdChars || text[22] != (byte)'=' || text[23] != (byte)'=')
        {
            return false;
        }

        for (int i = 0; i < 22; i++)
        {
            if (Base64Value(text[i]) < 0)
            {
                return false;
            }
        }

        // 16 bytes fill 21⅓ characters: the last one carries 2 bits and 4 that must be zero.
        if ((Base64Value(text[21]) & 0x0F) != 0)
        {
            return false;
        }

        Span<byte> raw = stackalloc byte[IdBytes];
        if (Base64.DecodeFromUtf8(text, raw, out _, out int written) != OperationStatus.Done || written != IdBytes)
        {
            return false;
        }

        digest = BinaryPrimitives.ReadUInt128LittleEndian(raw);
        return digest != UInt128.Zero;
    }

    /// <summary>
    /// A string token's contents with escapes resolved. The reader does not check the UTF-8 inside strings, so
    /// this uses the node's own unescaper (lone surrogates kept as WTF-8) rather than the reader's, which throws.
    /// </summary>
    public static ReadOnlySpan<byte> Text(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan;
        }

        using var buffer = new ByteBuffer(reader.ValueSpan.Length);
        JsonText.Unescape(reader.ValueSpan, buffer);
        return buffer.ToArray();
    }

    private static int Base64Value(byte c) => c switch
    {
        >= (byte)'A' and <= (byte)'Z' => c - 'A',
        >= (byte)'a' and <= (byte)'z' => c - 'a' + 26,
        >= (byte)'0' and <= (byte)'9' => c - '0' + 52,
        (byte)'+' => 62,
        (byte)'/' => 63,
        _ => -1,
    };
}
