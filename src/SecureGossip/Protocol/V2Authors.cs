using System.Numerics;
using SecureGossip.Crypto;

namespace SecureGossip.Protocol;

/// <summary>
/// Interns author keys to the small ints the v2 core works with (<see cref="Core.MessageId.Author"/>), so that
/// every spelling of one key gets one index (docs/PROTOCOL.md §4.2: authors "are compared by decoded key bytes").
/// </summary>
/// <remarks>
/// A key is read as the v1 path reads <c>public</c>: its tag (the text after the first <c>.</c>, as ssb-keys'
/// <c>getTag</c>) must be <c>ed25519</c>, and the rest must decode with node's lenient base64
/// (<see cref="SsbBase64"/>: a sigil, URL-safe characters, missing padding and junk characters are all tolerated)
/// to exactly 32 bytes. The canonical spelling, returned by <see cref="NameOf"/> and written by the encoder, is
/// standard padded base64 followed by <c>.ed25519</c>, which is what ssb-keys and <see cref="GossipKeys.Public"/>
/// write. Indices count from 0 and are never reused. Thread-safe.
/// </remarks>
internal sealed class V2Authors
{
    /// <summary>Length of a canonical name: 44 characters of base64 for 32 bytes, then <c>.ed25519</c>.</summary>
    private const int CanonicalLength = 44 + 8;

    /// <summary>
    /// How many authors a peer's frames can add (100,000, docs/PROTOCOL.md §6.2 <c>MaxAuthors</c>): control frames
    /// are unsigned, so past this a frame naming a new key is dropped; authors of verified messages are always interned.
    /// </summary>
    public const int MaxAuthorsFromFrames = 100_000;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _indices = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];
    private readonly List<byte[]> _utf8Names = [];

    /// <summary>How many distinct authors have been interned.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _names.Count;
            }
        }
    }

    /// <summary>The index of <paramref name="author"/>, interning it if it is new.</summary>
    /// <exception cref="ArgumentException"><paramref name="author"/> is not an ed25519 key in the <c>&lt;base64&gt;.ed25519</c> form.</exception>
    public int Intern(string author)
    {
        ArgumentNullException.ThrowIfNull(author);
        Span<char> canonical = stackalloc char[CanonicalLength];
        if (!TryCanonicalise(author.AsSpan(), canonical))
        {
            throw new ArgumentException(
                $"Not an author key: expected \"<base64 of 32 bytes>.ed25519\", got \"{Truncate(author)}\".", nameof(author));
        }

        return InternCanonical(canonical);
    }

    /// <summary>
    /// Interns the UTF-8 spelling of a key as it appears inside a JSON string (escapes already resolved).
    /// Returns <see langword="false"/>, interning nothing, when it is not an ed25519 key.
    /// </summary>
    public bool TryIntern(ReadOnlySpan<byte> utf8Author, out int index)
    {
        if ((index = IndexOfCanonical(utf8Author)) >= 0)
        {
            return true; // the spelling every node writes, of a key already known: nothing to decode
        }

        Span<char> canonical = stackalloc char[CanonicalLength];
        if (!TryCanonicalise(utf8Author, canonical))
        {
            index = -1;
            return false;
        }

        index = InternCanonical(canonical, bounded: true);
        return index >= 0;
    }

    /// <summary>
    /// The index of an interned author spelt exactly canonically (<c>&lt;standard padded base64&gt;.ed25519</c>, as
    /// UTF-8), or -1 for any other text: another spelling of a key, a key never interned, or no key at all. Only
    /// canonical names are ever interned, so an exact match is a canonical key.
    /// </summary>
    public int IndexOfCanonical(ReadOnlySpan<byte> utf8Name)
    {
        Span<char> name = stackalloc char[CanonicalLength];
        if (utf8Name.Length != CanonicalLength || System.Text.Ascii.ToUtf16(utf8Name, name, out _) != System.Buffers.OperationStatus.Done)
        {
            return -1;
        }

        lock (_gate)
        {
            return _indices.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out int index) ? index : -1;
        }
    }

    /// <summary>The index of the author whose 32-byte key is <paramref name="rawKey"/>, interning it if it is new (a verified author).</summary>
    public int Intern(ReadOnlySpan<byte> rawKey)
    {
        Span<char> canonical = stackalloc char[CanonicalLength];
        Canonical(rawKey, canonical);
        return InternCanonical(canonical);
    }

    /// <summary>The index of the author whose key is <paramref name="rawKey"/>, or -1 when it was never interned.</summary>
    public int IndexOf(ReadOnlySpan<byte> rawKey)
    {
        Span<char> canonical = stackalloc char[CanonicalLength];
        Canonical(rawKey, canonical);
        lock (_gate)
        {
            return _indices.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(canonical, out int index) ? index : -1;
        }
    }

    private static void Canonical(ReadOnlySpan<byte> rawKey, Span<char> canonical)
    {
        if (rawKey.Length != 32 || !Convert.TryToBase64Chars(rawKey, canonical, out _))
        {
            throw new ArgumentException("An ed25519 public key is 32 bytes.", nameof(rawKey));
        }

        ".ed25519".CopyTo(canonical[44..]);
    }

    /// <summary>The canonical spelling (<c>&lt;standard padded base64&gt;.ed25519</c>) of an interned author.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> was never returned by this instance.</exception>
    public string NameOf(int index)
    {
        lock (_gate)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _names.Count);
            return _names[index];
        }
    }

    /// <summary>The canonical spelling of an interned author as UTF-8 (ASCII), as frames carry it; the array is shared: do not change it.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> was never returned by this instance.</exception>
    public byte[] Utf8NameOf(int index)
    {
        lock (_gate)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _utf8Names.Count);
            return _utf8Names[index];
        }
    }

    private int InternCanonical(ReadOnlySpan<char> canonical, bool bounded = false)
    {
        lock (_gate)
        {
            Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup = _indices.GetAlternateLookup<ReadOnlySpan<char>>();
            if (lookup.TryGetValue(canonical, out int existing))
            {
                return existing;
            }

            if (bounded && _names.Count >= MaxAuthorsFromFrames)
            {
                return -1;
            }

            string name = canonical.ToString();
            int index = _names.Count;
            _names.Add(name);
            _utf8Names.Add(System.Text.Encoding.ASCII.GetBytes(name));
            _indices.Add(name, index);
            return index;
        }
    }

    /// <summary>Writes the canonical spelling of <paramref name="text"/> into <paramref name="canonical"/>, if it is a key.</summary>
    private static bool TryCanonicalise<T>(ReadOnlySpan<T> text, Span<char> canonical)
        where T : unmanaged, IBinaryInteger<T>
    {
        // The tag as ssb-keys' getTag reads it (and the v1 envelope check, V1Envelope.HasEd25519Tag).
        int dot = text.IndexOf(T.CreateTruncating('.'));
        if (dot < 0 || !IsEd25519(text[(dot + 1)..]))
        {
            return false;
        }

        // One spare byte, as GossipNode.NewAuthor does: a 33rd byte means the text held more than a key.
        Span<byte> raw = stackalloc byte[33];
        int length = typeof(T) == typeof(byte)
            ? SsbBase64.Decode(System.Runtime.InteropServices.MemoryMarshal.Cast<T, byte>(text), raw)
            : SsbBase64.Decode(System.Runtime.InteropServices.MemoryMarshal.Cast<T, char>(text), raw);
        if (length != 32)
        {
            return false;
        }

        bool encoded = Convert.TryToBase64Chars(raw[..32], canonical, out int written);
        System.Diagnostics.Debug.Assert(encoded && written == 44);
        ".ed25519".CopyTo(canonical[44..]);
        return true;
    }

    private static bool IsEd25519<T>(ReadOnlySpan<T> tag)
        where T : unmanaged, IBinaryInteger<T>
    {
        ReadOnlySpan<byte> expected = "ed25519"u8;
        if (tag.Length != expected.Length)
        {
            return false;
        }

        for (int i = 0; i < expected.Length; i++)
        {
            if (int.CreateTruncating(tag[i]) != expected[i])
            {
                return false;
            }
        }

        return true;
    }

    private static string Truncate(string text) => text.Length <= 64 ? text : string.Concat(text.AsSpan(0, 64), "…");
}
