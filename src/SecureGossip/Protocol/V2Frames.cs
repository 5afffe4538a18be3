using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Protocol;

/// <summary>
/// The v2 frame codec (docs/PROTOCOL.md §4): the core's frame records to one line of JSON and back.
/// <c>hello</c> is read and written by <see cref="V2Hello"/>.
/// </summary>
/// <remarks>
/// <para>
/// Writing: <c>sg2</c> is always the first member, optional members are left out when they hold their default,
/// and a <c>msg</c> frame's <c>m</c> is the message's line copied byte for byte, last.
/// </para>
/// <para>
/// Reading follows the receiver rules of §4.1: any member order, unknown members ignored, a frame with a top-level
/// <c>data</c>, <c>public</c> or <c>seq</c> dropped. Everything else is strict (integers in range, ids exactly 16
/// bytes of canonical standard base64, no duplicate members), because there is no legacy v2 sender to be lenient
/// with; the one exception is author keys, which are read as leniently as the v1 <c>public</c> is
/// (<see cref="V2Authors"/>), since they are copied from v1 lines. A bad frame is reported, never thrown.
/// </para>
/// <para>
/// A message id on the wire is the 128-bit <see cref="MessageId.Digest"/> in little-endian order, as standard padded
/// base64 (24 characters).
/// </para>
/// </remarks>
internal static class V2Frames
{
    /// <summary>Most entries in one <c>ihave</c> (§4.1).</summary>
    public const int MaxIHaveIds = 512;

    /// <summary>Most signed plus legacy entries in one <c>sync</c> (§4.1).</summary>
    public const int MaxSyncEntries = 4096;

    /// <summary>Most seqs plus ids over all entries of one <c>sync</c>.</summary>
    public const int MaxSyncItems = 65_536;

    /// <summary>Most ids in one <c>want</c>.</summary>
    public const int MaxWantIds = 1024;

    /// <summary>Most seqs (and so most author entries) in one <c>want</c>'s <c>s</c>.</summary>
    public const int MaxWantSeqs = 1024;

    /// <summary>The largest hop count; a sender saturates at it (§4.1).</summary>
    public const int MaxHops = 65_535;

    private const int IdBytes = 16;
    private const int IdChars = 24;

    // Only ASCII is ever written through the encoder (type names, base64, canonical key names), so the relaxed
    // encoder changes nothing but this: '+' stays '+' instead of becoming "\u002B" inside base64.
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] s_memberNames = ["sg2", "k", "h", "age", "t", "m", "i", "a", "o", "full", "end", "s", "l"];
    private static readonly byte[][] s_memberNamesUtf8 = [.. s_memberNames.Select(Encoding.UTF8.GetBytes)];
    private static readonly string[] s_envelopeNames = ["data", "public", "seq"];
    private static readonly byte[][] s_envelopeNamesUtf8 = [.. s_envelopeNames.Select(Encoding.UTF8.GetBytes)];

    /// <summary>The top-level members any frame type reads; the index into a member table.</summary>
    private enum Member
    {
        Sg2,
        K,
        H,
        Age,
        T,
        M,
        I,
        A,
        O,
        Full,
        End,
        S,
        L,
    }

    /// <summary>Encodes one frame as a line without its trailing newline.</summary>
    /// <exception cref="ArgumentException">
    /// The frame is not a v2 frame type, a <see cref="PlumtreeMessage"/> has no <see cref="PlumtreeMessage.Line"/>
    /// (or one that is not a single-line JSON object), an id that must go on the wire as a digest has none, or an
    /// author index was not interned in <paramref name="authors"/>.
    /// </exception>
    public static byte[] Encode(IGossipFrame frame, V2Authors authors)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(authors);
        var buffer = new ArrayBufferWriter<byte>(frame is PlumtreeMessage { Line: { } line } ? line.Length + 64 : 256);
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            writer.WriteStartObject();
            switch (frame)
            {
                case PlumtreeMessage message:
                    WriteMessage(writer, message);
                    break;
                case PlumtreeIHave ihave:
                    WriteIHave(writer, ihave);
                    break;
                case PlumtreeGraft graft:
                    writer.WriteString("sg2"u8, "graft"u8);
                    if (graft.Id is { } id)
                    {
                        writer.WritePropertyName("i"u8);
                        WriteId(writer, id.Digest, "graft.Id");
                    }
                    else
                    {
                        writer.WriteString("a"u8, authors.NameOf(graft.Author));
                    }

                    break;
                case PlumtreePrune prune:
                    writer.WriteString("sg2"u8, "prune"u8);
                    writer.WriteString("a"u8, authors.NameOf(prune.Author));
                    if (prune.Optimisation)
                    {
                        writer.WriteNumber("o"u8, 1);
                    }

                    break;
                case PlumtreeSync sync:
                    WriteSync(writer, sync, authors);
                    break;
                case PlumtreeWant want:
                    WriteWant(writer, want, authors);
                    break;
                default:
                    throw new ArgumentException($"{frame.GetType().Name} is not a v2 frame type this codec writes.", nameof(frame));
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Decodes one v2 frame (a line without its newline). Returns <see langword="true"/> with the frame, or
    /// <see langword="true"/> with <paramref name="frame"/> = <see langword="null"/> for a <c>hello</c> (read it with
    /// <see cref="V2Hello"/>); <see langword="false"/> with a short reason naming the frame type and member when the
    /// line breaks a rule. Never throws on any <paramref name="line"/>.
    /// </summary>
    /// <param name="line">The frame's bytes.</param>
    /// <param name="authors">Where author keys read from the frame are interned.</param>
    /// <param name="maxJsonDepth">The nesting limit of a v1 line; the frame may nest two deeper (its own object and <c>m</c>).</param>
    /// <param name="frame">The frame read, or <see langword="null"/>.</param>
    /// <param name="error">Why the line was rejected, or <see langword="null"/>.</param>
    /// <remarks>
    /// A <see cref="PlumtreeMessage"/> read here has a default <see cref="PlumtreeMessage.Message"/>: the caller
    /// computes the id from the line. Ids read from <c>ihave</c>, <c>graft</c> and <c>want.i</c> have
    /// <see cref="MessageId.UnknownAuthor"/>. A <c>sync</c> lists its seq entries (<c>s</c>) before its digest
    /// entries (<c>l</c>). Author keys met before a rule is broken stay interned.
    /// </remarks>
    public static bool TryDecode(ReadOnlySpan<byte> line, V2Authors authors, int maxJsonDepth, out IGossipFrame? frame, out string? error)
    {
        ArgumentNullException.ThrowIfNull(authors);
        ArgumentOutOfRangeException.ThrowIfNegative(maxJsonDepth);
        frame = null;
        var options = new JsonReaderOptions { MaxDepth = (int)Math.Min(maxJsonDepth + 2L, int.MaxValue) };
        Span<Slot> slots = stackalloc Slot[s_memberNames.Length];
        try
        {
            if (!ReadMembers(line, options, slots, out error))
            {
                return false;
            }

            Slot type = slots[(int)Member.Sg2];
            if (type.Count == 0)
            {
                error = "no sg2 member";
                return false;
            }

            if (type.Count > 1 || type.Type != JsonTokenType.String)
            {
                error = type.Count > 1 ? "sg2: duplicate member" : "sg2: not a string";
                return false;
            }

            var reader = Open(line, type, options);
            if (reader.ValueTextEquals("msg"u8))
            {
                return TryReadMessage(line, slots, options, out frame, out error);
            }

            if (reader.ValueTextEquals("ihave"u8))
            {
                return TryReadIHave(line, slots, options, out frame, out error);
            }

            if (reader.ValueTextEquals("graft"u8))
            {
                return TryReadGraft(line, slots, options, authors, out frame, out error);
            }

            if (reader.ValueTextEquals("prune"u8))
            {
                return TryReadPrune(line, slots, options, authors, out frame, out error);
            }

            if (reader.ValueTextEquals("sync"u8))
            {
                return TryReadSync(line, slots, options, authors, out frame, out error);
            }

            if (reader.ValueTextEquals("want"u8))
            {
                return TryReadWant(line, slots, options, authors, out frame, out error);
            }

            if (reader.ValueTextEquals("hello"u8))
            {
                error = null;
                return true;
            }

            ReadOnlySpan<byte> name = reader.ValueSpan;
            error = $"unknown frame type \"{Encoding.UTF8.GetString(name[..Math.Min(name.Length, 32)])}\"";
            return false;
        }
        catch (JsonException e)
        {
            // Every value is re-read from a slice the first pass has already checked, so only that pass can land
            // here: malformed JSON, nesting beyond the limit, or data after the object.
            frame = null;
            string message = e.Message;
            int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            error = $"malformed JSON at byte {e.BytePositionInLine?.ToString(CultureInfo.InvariantCulture) ?? "?"}: {(cut >= 0 ? message[..cut] : message)}";
            return false;
        }
        catch (InvalidOperationException)
        {
            // ValueTextEquals in the first pass unescapes each member name to compare it, and refuses one that is not
            // valid UTF-16 (an escaped lone surrogate, which JSON.parse accepts).
            frame = null;
            error = "a member name is not valid UTF-16 (an escaped lone surrogate)";
            return false;
        }
    }

    // ---- Writing ----

    private static void WriteMessage(Utf8JsonWriter writer, PlumtreeMessage message)
    {
        if (message.Line is not { } line)
        {
            throw new ArgumentException("A msg frame needs the message's v1 line (PlumtreeMessage.Line).");
        }

        // m is written raw, unchecked: a cheap guard that it is one JSON object that cannot break the framing.
        ReadOnlySpan<byte> trimmed = line.AsSpan().Trim(" \t\r\n"u8);
        if (trimmed.Length < 2 || trimmed[0] != (byte)'{' || trimmed[^1] != (byte)'}' || line.AsSpan().Contains((byte)'\n'))
        {
            throw new ArgumentException("PlumtreeMessage.Line must be a JSON object on one line.");
        }

        writer.WriteString("sg2"u8, "msg"u8);
        writer.WriteString("k"u8, message.Kind switch
        {
            PlumtreeSendKind.Eager => "e"u8,
            PlumtreeSendKind.Graft => "g"u8,
            PlumtreeSendKind.Sync => "s"u8,
            _ => throw new ArgumentException($"Unknown send kind {message.Kind}."),
        });
        if (message.Hops > 0)
        {
            writer.WriteNumber("h"u8, Math.Min(message.Hops, MaxHops)); // saturating, §4.1
        }

        long age = Math.Clamp(message.AgeMs, 0, int.MaxValue);
        if (age > 0)
        {
            writer.WriteNumber("age"u8, age);
        }

        if (message.AuthorTree)
        {
            writer.WriteNumber("t"u8, 1);
        }

        writer.WritePropertyName("m"u8);
        writer.WriteRawValue(line, skipInputValidation: true);
    }

    private static void WriteIHave(Utf8JsonWriter writer, PlumtreeIHave ihave)
    {
        if (ihave.Ids.Length != ihave.Hops.Length)
        {
            throw new ArgumentException("PlumtreeIHave needs one hop count per id.");
        }

        writer.WriteString("sg2"u8, "ihave"u8);
        writer.WriteStartArray("i"u8);
        for (int i = 0; i < ihave.Ids.Length; i++)
        {
            writer.WriteStartArray();
            WriteId(writer, ihave.Ids[i].Digest, "ihave.Ids");
            writer.WriteNumberValue(Math.Clamp(ihave.Hops[i], 0, MaxHops));
            writer.WriteEndArray();
        }

        writer.WriteEndArray();
    }

    private static void WriteSync(Utf8JsonWriter writer, PlumtreeSync sync, V2Authors authors)
    {
        writer.WriteString("sg2"u8, "sync"u8);
        if (sync.Full)
        {
            writer.WriteNumber("full"u8, 1);
            if (sync.End)
            {
                writer.WriteNumber("end"u8, 1);
            }
        }

        writer.WriteStartArray("s"u8);
        foreach (PlumtreeFrontierEntry entry in sync.Entries)
        {
            if (entry.Digests is null)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(authors.NameOf(entry.Author));
                writer.WriteNumberValue(entry.Floor);
                writer.WriteStartArray();
                foreach (long seq in entry.Above)
                {
                    writer.WriteNumberValue(seq);
                }

                writer.WriteEndArray();
                writer.WriteEndArray();
            }
        }

        writer.WriteEndArray();
        writer.WriteStartArray("l"u8);
        foreach (PlumtreeFrontierEntry entry in sync.Entries)
        {
            if (entry.Digests is { } digests)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(authors.NameOf(entry.Author));
                writer.WriteStartArray();
                foreach (UInt128 digest in digests)
                {
                    WriteId(writer, digest, "PlumtreeFrontierEntry.Digests");
                }

                writer.WriteEndArray();
                writer.WriteEndArray();
            }
        }

        writer.WriteEndArray();
    }

    private static void WriteWant(Utf8JsonWriter writer, PlumtreeWant want, V2Authors authors)
    {
        writer.WriteString("sg2"u8, "want"u8);
        writer.WriteStartArray("i"u8);
        List<(int Author, List<long> Seqs)>? bySeq = null;
        foreach (MessageId id in want.Ids)
        {
            if (id.HasDigest)
            {
                WriteId(writer, id.Digest, "want.Ids");
                continue;
            }

            if (id.Sequence < 0)
            {
                throw new ArgumentException($"A want id has neither a digest nor a seq ({id}).");
            }

            // Ids known by seq, grouped by author in order of first appearance.
            bySeq ??= [];
            int group = bySeq.FindIndex(g => g.Author == id.Author);
            if (group < 0)
            {
                bySeq.Add((id.Author, [id.Sequence]));
            }
            else
            {
                bySeq[group].Seqs.Add(id.Sequence);
            }
        }

        writer.WriteEndArray();
        writer.WriteStartArray("s"u8);
        foreach ((int author, List<long> seqs) in bySeq ?? [])
        {
            writer.WriteStartArray();
            writer.WriteStringValue(authors.NameOf(author));
            writer.WriteStartArray();
            foreach (long seq in seqs)
            {
                writer.WriteNumberValue(seq);
            }

            writer.WriteEndArray();
            writer.WriteEndArray();
        }

        writer.WriteEndArray();
    }

    private static void WriteId(Utf8JsonWriter writer, UInt128 digest, string what)
    {
        if (digest == UInt128.Zero)
        {
            throw new ArgumentException($"{what}: an id without a digest cannot go on the wire.");
        }

        Span<byte> raw = stackalloc byte[IdBytes];
        BinaryPrimitives.WriteUInt128LittleEndian(raw, digest);
        Span<byte> text = stackalloc byte[IdChars];
        OperationStatus status = Base64.EncodeToUtf8(raw, text, out _, out int written);
        System.Diagnostics.Debug.Assert(status == OperationStatus.Done && written == IdChars);
        writer.WriteStringValue(text);
    }

    // ---- Reading ----

    /// <summary>Where one known top-level member's value sits in the line.</summary>
    private struct Slot
    {
        public int Start;
        public int Length;
        public JsonTokenType Type;
        public int Count;
    }

    /// <summary>
    /// The first pass: checks that the line is one JSON object within the depth limit, and notes where each known
    /// member's value is. The type is only known once <c>sg2</c> is found, which may come last.
    /// </summary>
    private static bool ReadMembers(ReadOnlySpan<byte> line, JsonReaderOptions options, Span<Slot> slots, out string? error)
    {
        var reader = new Utf8JsonReader(line, options);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            error = "not a JSON object";
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            int member = -1;
            for (int i = 0; i < s_memberNamesUtf8.Length; i++)
            {
                if (reader.ValueTextEquals(s_memberNamesUtf8[i]))
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
                ref Slot slot = ref slots[member];
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

    /// <summary>A reader positioned on the first token of a member's value.</summary>
    private static Utf8JsonReader Open(ReadOnlySpan<byte> line, in Slot slot, JsonReaderOptions options)
    {
        var reader = new Utf8JsonReader(line.Slice(slot.Start, slot.Length), options);
        reader.Read();
        return reader;
    }

    private static bool TryReadMessage(ReadOnlySpan<byte> line, Span<Slot> slots, JsonReaderOptions options, out IGossipFrame? frame, out string? error)
    {
        frame = null;
        if (!NoDuplicates("msg", slots, out error, Member.K, Member.H, Member.Age, Member.T, Member.M))
        {
            return false;
        }

        Slot k = slots[(int)Member.K];
        if (k.Count == 0)
        {
            error = "msg.k: missing";
            return false;
        }

        var reader = Open(line, k, options);
        PlumtreeSendKind kind;
        if (reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("e"u8))
        {
            kind = PlumtreeSendKind.Eager;
        }
        else if (reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("g"u8))
        {
            kind = PlumtreeSendKind.Graft;
        }
        else if (reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("s"u8))
        {
            kind = PlumtreeSendKind.Sync;
        }
        else
        {
            error = "msg.k: not \"e\", \"g\" or \"s\"";
            return false;
        }

        if (!TryReadOptionalInt(line, slots, Member.H, options, 0, MaxHops, "msg", out int hops, out error)
            || !TryReadOptionalInt(line, slots, Member.Age, options, 0, int.MaxValue, "msg", out int age, out error)
            || !TryReadFlag(line, slots, Member.T, options, "msg", out bool authorTree, out error))
        {
            return false;
        }

        Slot m = slots[(int)Member.M];
        if (m.Count == 0 || m.Type != JsonTokenType.StartObject)
        {
            error = m.Count == 0 ? "msg.m: missing" : "msg.m: not a JSON object";
            return false;
        }

        // The line exactly as received (§4.3): sliced from the frame, never re-serialised.
        byte[] bytes = line.Slice(m.Start, m.Length).ToArray();
        frame = new PlumtreeMessage(default, bytes.Length, kind, hops, authorTree) { Line = bytes, AgeMs = age };
        return true;
    }

    private static bool TryReadIHave(ReadOnlySpan<byte> line, Span<Slot> slots, JsonReaderOptions options, out IGossipFrame? frame, out string? error)
    {
        frame = null;
        if (!NoDuplicates("ihave", slots, out error, Member.I))
        {
            return false;
        }

        Slot slot = slots[(int)Member.I];
        if (slot.Count == 0 || slot.Type != JsonTokenType.StartArray)
        {
            error = slot.Count == 0 ? "ihave.i: missing" : "ihave.i: not an array";
            return false;
        }

        var reader = Open(line, slot, options);
        var ids = new List<MessageId>();
        var hops = new List<int>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            int n = ids.Count;
            if (n == MaxIHaveIds)
            {
                error = $"ihave.i: more than {MaxIHaveIds} entries";
                return false;
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                error = $"ihave.i[{n}]: not an [id, h] pair";
                return false;
            }

            reader.Read();
            if (!TryReadId(ref reader, out UInt128 digest))
            {
                error = $"ihave.i[{n}]: id is not 16 bytes of base64";
                return false;
            }

            reader.Read();
            if (!TryGetInt(ref reader, 0, MaxHops, out int h))
            {
                error = $"ihave.i[{n}]: h is not an integer 0..{MaxHops}";
                return false;
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.EndArray)
            {
                error = $"ihave.i[{n}]: more than two elements";
                return false;
            }

            ids.Add(MessageId.FromDigest(MessageId.UnknownAuthor, digest));
            hops.Add(h);
        }

        frame = new PlumtreeIHave([.. ids], [.. hops]);
        return true;
    }

    private static bool TryReadGraft(ReadOnlySpan<byte> line, Span<Slot> slots, JsonReaderOptions options, V2Authors authors, out IGossipFrame? frame, out string? error)
    {
        frame = null;
        if (!NoDuplicates("graft", slots, out error, Member.I, Member.A))
        {
            return false;
        }

        Slot i = slots[(int)Member.I];
        if (i.Count > 0)
        {
            // A repair graft; an a beside it means nothing and is ignored.
            var reader = Open(line, i, options);
            if (!TryReadId(ref reader, out UInt128 digest))
            {
                error = "graft.i: id is not 16 bytes of base64";
                return false;
            }

            frame = new PlumtreeGraft(MessageId.FromDigest(MessageId.UnknownAuthor, digest), MessageId.UnknownAuthor);
            return true;
        }

        if (slots[(int)Member.A].Count == 0)
        {
            error = "graft: neither i nor a";
            return false;
        }

        if (!TryReadAuthor(line, slots, Member.A, options, authors, "graft", out int author, out error))
        {
            return false;
        }

        frame = new PlumtreeGraft(null, author);
        return true;
    }

    private static bool TryReadPrune(ReadOnlySpan<byte> line, Span<Slot> slots, JsonReaderOptions options, V2Authors authors, out IGossipFrame? frame, out string? error)
    {
        frame = null;
        if (!NoDuplicates("prune", slots, out error, Member.A, Member.O))
        {
            return false;
        }

        if (slots[(int)Member.A].Count == 0)
        {
            error = "prune.a: missing";
            return false;
        }

        if (!TryReadFlag(line, slots, Member.O, options, "prune", out bool optimisation, out error)
            || !TryReadAuthor(line, slots, Member.A, options, authors, "prune", out int author, out error))
        {
            return false;
        }

        frame = new PlumtreePrune(author, optimisation);
        return true;
    }

    private static bool TryReadSync(ReadOnlySpan<byte> line, Span<Slot> slots, JsonReaderOptions options, V2Authors authors, out IGossipFrame? frame, out string? error)
    {
        frame = null;
        if (!NoDuplicates("sync", slots, out error, Member.Full, Member.End, Member.S, Member.L)
            || !TryReadFlag(line, slots, Member.Full, options, "sync", out bool full, out error)
            || !TryReadFlag(line, slots, Member.End, options, "sync", out bool end, out error))
        {
            return false;
        }

        var entries = new List<PlumtreeFrontierEntry>();
        int items = 0;
        var seqs = new List<long>();
        var digests = new List<UInt128>();

        Slot s = slots[(int)Member.S];
        if (s.Count > 0)
        {
            if (s.Type != JsonTokenType.StartArray)
            {
                error = "sync.s: not an array";
                return false;
            }

            var reader = Open(line, s, options);
            for (int n = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; n++)
            {
                if (entries.Count == MaxSyncEntries)
                {
                    error = $"sync.s: more than {MaxSyncEntries} entries in the frame";
                    return false;
                }

                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    error = $"sync.s[{n}]: not an [author, floor, [seq, ...]] entry";
                    return false;
                }

                reader.Read();
                if (!TryReadAuthor(ref reader, authors, out int author))
                {
                    error = $"sync.s[{n}]: author is not an ed25519 key";
                    return false;
                }

                reader.Read();
                if (!TryGetLong(ref reader, out long floor))
                {
                    error = $"sync.s[{n}]: floor is not an integer >= 0";
                    return false;
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    error = $"sync.s[{n}]: seqs is not an array";
                    return false;
                }

                seqs.Clear();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (++items > MaxSyncItems)
                    {
                        error = $"sync.s[{n}]: more than {MaxSyncItems} seqs and ids in the frame";
                        return false;
                    }

                    if (!TryGetLong(ref reader, out long seq))
                    {
                        error = $"sync.s[{n}][{seqs.Count}]: seq is not an integer >= 0";
                        return false;
                    }

                    seqs.Add(seq);
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.EndArray)
                {
                    error = $"sync.s[{n}]: more than three elements";
                    return false;
                }

                entries.Add(new PlumtreeFrontierEntry(author, floor, [.. seqs]));
            }
        }

        Slot l = slots[(int)Member.L];
        if (l.Count > 0)
        {
            if (l.Type != JsonTokenType.StartArray)
            {
                error = "sync.l: not an array";
                return false;
            }

            var reader = Open(line, l, options);
            for (int n = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; n++)
            {
                if (entries.Count == MaxSyncEntries)
                {
                    error = $"sync.l: more than {MaxSyncEntries} entries in the frame";
                    return false;
                }

                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    error = $"sync.l[{n}]: not an [author, [id, ...]] entry";
                    return false;
                }

                reader.Read();
                if (!TryReadAuthor(ref reader, authors, out int author))
                {
                    error = $"sync.l[{n}]: author is not an ed25519 key";
                    return false;
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    error = $"sync.l[{n}]: ids is not an array";
                    return false;
                }

                digests.Clear();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (++items > MaxSyncItems)
                    {
                        error = $"sync.l[{n}]: more than {MaxSyncItems} seqs and ids in the frame";
                        return false;
                    }

                    if (!TryReadId(ref reader, out UInt128 digest))
                    {
                        error = $"sync.l[{n}][{digests.Count}]: id is not 16 bytes of base64";
                        return false;
                    }

                    digests.Add(digest);
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.EndArray)
                {
                    error = $"sync.l[{n}]: more than two elements";
                    return false;
                }

                entries.Add(PlumtreeFrontierEntry.ForDigests(author, [.. digests]));
            }
        }

        // A delta is always its own last frame; a full exchange ends at the frame marked end.
        frame = new PlumtreeSync(full, [.. entries]) { End = !full || end };
        return true;
    }

    private static bool TryReadWant(ReadOnlySpan<byte> line, Span<Slot> slots, JsonReaderOptions options, V2Authors authors, out IGossipFrame? frame, out string? error)
    {
        frame = null;
        if (!NoDuplicates("want", slots, out error, Member.I, Member.S))
        {
            return false;
        }

        var ids = new List<MessageId>();
        Slot i = slots[(int)Member.I];
        if (i.Count > 0)
        {
            if (i.Type != JsonTokenType.StartArray)
            {
                error = "want.i: not an array";
                return false;
            }

            var reader = Open(line, i, options);
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (ids.Count == MaxWantIds)
                {
                    error = $"want.i: more than {MaxWantIds} ids";
                    return false;
                }

                if (!TryReadId(ref reader, out UInt128 digest))
                {
                    error = $"want.i[{ids.Count}]: id is not 16 bytes of base64";
                    return false;
                }

                ids.Add(MessageId.FromDigest(MessageId.UnknownAuthor, digest));
            }
        }

        Slot s = slots[(int)Member.S];
        if (s.Count > 0)
        {
            if (s.Type != JsonTokenType.StartArray)
            {
                error = "want.s: not an array";
                return false;
            }

            var reader = Open(line, s, options);
            int seqCount = 0;
            for (int n = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; n++)
            {
                // Each entry should name at least one seq, so the seq budget bounds the entries (and the
                // authors one frame can intern) too.
                if (n == MaxWantSeqs)
                {
                    error = $"want.s: more than {MaxWantSeqs} entries";
                    return false;
                }

                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    error = $"want.s[{n}]: not an [author, [seq, ...]] entry";
                    return false;
                }

                reader.Read();
                if (!TryReadAuthor(ref reader, authors, out int author))
                {
                    error = $"want.s[{n}]: author is not an ed25519 key";
                    return false;
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    error = $"want.s[{n}]: seqs is not an array";
                    return false;
                }

                for (int k = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; k++)
                {
                    if (++seqCount > MaxWantSeqs)
                    {
                        error = $"want.s[{n}]: more than {MaxWantSeqs} seqs in the frame";
                        return false;
                    }

                    if (!TryGetLong(ref reader, out long seq))
                    {
                        error = $"want.s[{n}][{k}]: seq is not an integer >= 0";
                        return false;
                    }

                    ids.Add(new MessageId(author, seq));
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.EndArray)
                {
                    error = $"want.s[{n}]: more than two elements";
                    return false;
                }
            }
        }

        frame = new PlumtreeWant([.. ids]);
        return true;
    }

    private static bool NoDuplicates(string type, ReadOnlySpan<Slot> slots, out string? error, params ReadOnlySpan<Member> members)
    {
        foreach (Member member in members)
        {
            if (slots[(int)member].Count > 1)
            {
                error = $"{type}.{s_memberNames[(int)member]}: duplicate member";
                return false;
            }
        }

        error = null;
        return true;
    }

    /// <summary>An optional integer member; absent reads as 0.</summary>
    private static bool TryReadOptionalInt(ReadOnlySpan<byte> line, ReadOnlySpan<Slot> slots, Member member, JsonReaderOptions options, int min, int max, string type, out int value, out string? error)
    {
        value = 0;
        error = null;
        Slot slot = slots[(int)member];
        if (slot.Count == 0)
        {
            return true;
        }

        var reader = Open(line, slot, options);
        if (!TryGetInt(ref reader, min, max, out value))
        {
            error = $"{type}.{s_memberNames[(int)member]}: not an integer {min}..{max}";
            return false;
        }

        return true;
    }

    /// <summary>A flag member: absent or 0 is false, 1 is true, anything else breaks the rules.</summary>
    private static bool TryReadFlag(ReadOnlySpan<byte> line, ReadOnlySpan<Slot> slots, Member member, JsonReaderOptions options, string type, out bool value, out string? error)
    {
        value = false;
        if (!TryReadOptionalInt(line, slots, member, options, 0, 1, type, out int number, out error))
        {
            error = $"{type}.{s_memberNames[(int)member]}: not 0 or 1";
            return false;
        }

        value = number == 1;
        return true;
    }

    private static bool TryReadAuthor(ReadOnlySpan<byte> line, ReadOnlySpan<Slot> slots, Member member, JsonReaderOptions options, V2Authors authors, string type, out int author, out string? error)
    {
        var reader = Open(line, slots[(int)member], options);
        if (!TryReadAuthor(ref reader, authors, out author))
        {
            error = $"{type}.{s_memberNames[(int)member]}: not an ed25519 key";
            return false;
        }

        error = null;
        return true;
    }

    private static bool TryReadAuthor(ref Utf8JsonReader reader, V2Authors authors, out int author)
    {
        author = -1;
        return reader.TokenType == JsonTokenType.String && authors.TryIntern(Text(ref reader), out author);
    }

    private static bool TryGetInt(ref Utf8JsonReader reader, int min, int max, out int value)
    {
        value = 0;
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out value) && value >= min && value <= max;
    }

    private static bool TryGetLong(ref Utf8JsonReader reader, out long value)
    {
        value = 0;
        return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out value) && value >= 0;
    }

    /// <summary>
    /// A message id: a string of exactly 24 characters of standard base64 with its two <c>=</c> of padding and zero
    /// unused bits, so each id has one spelling; a zero digest is not an id.
    /// </summary>
    private static bool TryReadId(ref Utf8JsonReader reader, out UInt128 digest)
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

    private static int Base64Value(byte c) => c switch
    {
        >= (byte)'A' and <= (byte)'Z' => c - 'A',
        >= (byte)'a' and <= (byte)'z' => c - 'a' + 26,
        >= (byte)'0' and <= (byte)'9' => c - '0' + 52,
        (byte)'+' => 62,
        (byte)'/' => 63,
        _ => -1,
    };

    /// <summary>
    /// A string token's contents with escapes resolved. The reader does not check the UTF-8 inside strings, so
    /// this uses the node's own unescaper (lone surrogates kept as WTF-8) rather than the reader's, which throws.
    /// </summary>
    private static ReadOnlySpan<byte> Text(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan;
        }

        using var buffer = new ByteBuffer(reader.ValueSpan.Length);
        JsonText.Unescape(reader.ValueSpan, buffer);
        return buffer.ToArray();
    }
}
