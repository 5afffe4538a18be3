using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace SecureGossip.Protocol;

/// <summary>
/// One v2 frame's top-level members, located by a first pass (docs/PROTOCOL.md §4.1), with the checks every frame
/// reader shares. The type is only known once <c>sg2</c> is found, which may come last, so the first pass notes where
/// each known member's value is and the frame's reader then re-reads just the members it needs.
/// </summary>
/// <remarks>
/// Any member order, unknown members ignored, a top-level <c>data</c>, <c>public</c> or <c>seq</c> rejected (a v2
/// frame must never be mistaken for a v1 message). Every value is re-read from a slice the first pass has already
/// checked, so only <see cref="TryLocate"/> can throw <see cref="JsonException"/>.
/// </remarks>
internal ref struct V2FrameMembers
{
    private const int MemberCount = (int)V2Member.R + 1;

    private static readonly string[] s_names = ["sg2", "k", "h", "age", "t", "m", "i", "a", "o", "full", "end", "s", "l", "r"];
    private static readonly byte[][] s_namesUtf8 = [.. s_names.Select(Encoding.UTF8.GetBytes)];
    private static readonly string[] s_envelopeNames = ["data", "public", "seq"];
    private static readonly byte[][] s_envelopeNamesUtf8 = [.. s_envelopeNames.Select(Encoding.UTF8.GetBytes)];

    private readonly ReadOnlySpan<byte> _line;
    private readonly JsonReaderOptions _options;
    private Slots _slots;

    /// <summary>Members of <paramref name="line"/>, read with <paramref name="options"/> (the depth limit).</summary>
    public V2FrameMembers(ReadOnlySpan<byte> line, JsonReaderOptions options)
    {
        System.Diagnostics.Debug.Assert(s_names.Length == MemberCount);
        _line = line;
        _options = options;
    }

    /// <summary>The frame's bytes.</summary>
    public readonly ReadOnlySpan<byte> Line => _line;

    /// <summary>The member's name as it is spelt on the wire, for error messages.</summary>
    public static string NameOf(V2Member member) => s_names[(int)member];

    /// <summary>
    /// The first pass: checks that the line is one JSON object within the depth limit, and notes where each known
    /// member's value is. Throws <see cref="JsonException"/> on malformed JSON and <see cref="InvalidOperationException"/>
    /// on a member name that is not valid UTF-16; the caller turns both into a reason.
    /// </summary>
    public bool TryLocate(out string? error)
    {
        var reader = new Utf8JsonReader(_line, _options);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            error = "not a JSON object";
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            int member = -1;
            for (int i = 0; i < s_namesUtf8.Length; i++)
            {
                if (reader.ValueTextEquals(s_namesUtf8[i]))
                {
                    member = i;
                    break;
                }
            }

            if (member < 0)
            {
                for (int i = 0; i < s_envelopeNamesUtf8.Length; i++)
                {
                    if (reader.ValueTextEquals(s_envelopeNamesUtf8[i]))
                    {
                        error = $"has a top-level \"{s_envelopeNames[i]}\" member, which a v2 frame must not have";
                        return false;
                    }
                }
            }

            reader.Read();
            int start = (int)reader.TokenStartIndex;
            JsonTokenType type = reader.TokenType;
            reader.Skip();
            if (member >= 0)
            {
                ref Slot slot = ref _slots[member];
                slot.Start = start;
                slot.Length = (int)reader.BytesConsumed - start;
                slot.Type = type;
                slot.Count++;
            }
        }

        // Anything but whitespace after the object makes the reader throw.
        if (reader.Read())
        {
            error = "data after the frame's object";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>How often the member occurs (a duplicate breaks the rules where it is read).</summary>
    public readonly int Count(V2Member member) => _slots[(int)member].Count;

    /// <summary>The token type the member's value starts with.</summary>
    public readonly JsonTokenType TypeOf(V2Member member) => _slots[(int)member].Type;

    /// <summary>The member's value exactly as it is in the line.</summary>
    public readonly ReadOnlySpan<byte> Raw(V2Member member)
    {
        Slot slot = _slots[(int)member];
        return _line.Slice(slot.Start, slot.Length);
    }

    /// <summary>A reader positioned on the first token of the member's value.</summary>
    public readonly Utf8JsonReader Open(V2Member member)
    {
        var reader = new Utf8JsonReader(Raw(member), _options);
        reader.Read();
        return reader;
    }

    /// <summary>Rejects a frame of <paramref name="type"/> that repeats any of <paramref name="members"/>.</summary>
    public readonly bool NoDuplicates(string type, out string? error, params ReadOnlySpan<V2Member> members)
    {
        foreach (V2Member member in members)
        {
            if (Count(member) > 1)
            {
                error = $"{type}.{NameOf(member)}: duplicate member";
                return false;
            }
        }

        error = null;
        return true;
    }

    /// <summary>An optional integer member; absent reads as 0.</summary>
    public readonly bool TryReadOptionalInt(V2Member member, int min, int max, string type, out int value, out string? error)
    {
        value = 0;
        error = null;
        if (Count(member) == 0)
        {
            return true;
        }

        var reader = Open(member);
        if (!V2Json.TryGetInt(ref reader, min, max, out value))
        {
            error = $"{type}.{NameOf(member)}: not an integer {min}..{max}";
            return false;
        }

        return true;
    }

    /// <summary>A flag member: absent or 0 is false, 1 is true, anything else breaks the rules.</summary>
    public readonly bool TryReadFlag(V2Member member, string type, out bool value, out string? error)
    {
        value = false;
        if (!TryReadOptionalInt(member, 0, 1, type, out int number, out error))
        {
            error = $"{type}.{NameOf(member)}: not 0 or 1";
            return false;
        }

        value = number == 1;
        return true;
    }

    /// <summary>An author key member (present: the caller checks that), interned into <paramref name="authors"/>.</summary>
    public readonly bool TryReadAuthor(V2Member member, V2Authors authors, string type, out int author, out string? error)
    {
        var reader = Open(member);
        if (!V2Json.TryReadAuthor(ref reader, authors, out author))
        {
            error = $"{type}.{NameOf(member)}: not an ed25519 key";
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>Where one known top-level member's value sits in the line.</summary>
    private struct Slot
    {
        public int Start;
        public int Length;
        public JsonTokenType Type;
        public int Count;
    }

    /// <summary>One slot per <see cref="V2Member"/>, inline, so locating members allocates nothing.</summary>
    [InlineArray(MemberCount)]
    private struct Slots
    {
        private Slot _element0;
    }
}
