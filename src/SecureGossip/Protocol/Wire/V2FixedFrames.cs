using System.Buffers;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Protocol;

/// <summary>
/// The commonest frames in the one spelling every node writes (<c>sg2</c> first, members in the writer's order, no
/// whitespace, authors by canonical name), read and written here byte for byte, without a JSON reader or writer:
/// <c>msg</c>, and the small frames that build and shape trees (<c>tree</c>, and <c>graft</c> and <c>prune</c> naming
/// an author; docs/PROTOCOL.md §4.2, §8.8), which are most of the frames while trees form (59 % of a cold 200-node
/// burst).
/// </summary>
/// <remarks>
/// Only an exact match is read here; anything else (another order, whitespace, escapes, another spelling of a key, an
/// author this node has not interned yet, an id) returns <see langword="false"/> and goes to
/// <see cref="V2FrameReader"/>, which reads every valid frame. So the fast path never accepts a line the full
/// reader would refuse, and reads what it accepts as the full reader would (tested on every form and on mutations).
/// A <c>msg</c> frame's embedded line (<c>m</c>) is taken by <see cref="TryReadMessage"/> as the bytes between
/// <c>"m":</c> and the frame's last <c>}</c>, provided it is valid UTF-8 and starts and ends as an object does; whether
/// it is one JSON value is then checked where every line is, by <see cref="V1Envelope.TryParse"/> with the same JSON
/// reader, before anything else reads it. The JSON path checks the same thing first instead, so a frame whose line is
/// not JSON is dropped either way (as a malformed line rather than a malformed frame), and the line is parsed once.
/// </remarks>
internal static class V2FixedFrames
{
    private const int NameLength = 52; // 44 characters of base64, then ".ed25519"

    private static ReadOnlySpan<byte> TreePrefix => "{\"sg2\":\"tree\",\"a\":\""u8;

    private static ReadOnlySpan<byte> GraftPrefix => "{\"sg2\":\"graft\",\"a\":\""u8;

    private static ReadOnlySpan<byte> PrunePrefix => "{\"sg2\":\"prune\",\"a\":\""u8;

    private static ReadOnlySpan<byte> HopsMember => "\",\"h\":"u8;

    private static ReadOnlySpan<byte> Rooted => ",\"r\":1"u8;

    private static ReadOnlySpan<byte> Optimisation => ",\"o\":1"u8;

    private static ReadOnlySpan<byte> MsgPrefix => "{\"sg2\":\"msg\",\"k\":\""u8;

    private static ReadOnlySpan<byte> MsgHops => ",\"h\":"u8;

    private static ReadOnlySpan<byte> MsgAge => ",\"age\":"u8;

    private static ReadOnlySpan<byte> MsgAuthorTree => ",\"t\":1"u8;

    private static ReadOnlySpan<byte> MsgRoot => ",\"r\":\""u8;

    private static ReadOnlySpan<byte> MsgLine => ",\"m\":"u8;

    /// <summary>Reads <paramref name="line"/> if it is one of these frames in the writer's exact form, naming an interned author.</summary>
    public static bool TryRead(ReadOnlySpan<byte> line, V2Authors authors, out IGossipFrame? frame)
    {
        frame = null;
        if (line.Length < PrunePrefix.Length + NameLength + 2 || line[^1] != (byte)'}')
        {
            return false;
        }

        if (line.StartsWith(TreePrefix))
        {
            ReadOnlySpan<byte> rest = line[TreePrefix.Length..];
            int root = authors.IndexOfCanonical(rest[..NameLength]);
            rest = rest[NameLength..];
            int hops = 0;
            if (root < 0 || !rest.StartsWith(HopsMember) || !TryTakeNumber(ref rest, HopsMember.Length, V2Frames.MaxHops, out hops) || rest.Length != 1)
            {
                return false; // (the line ends with its closing brace, checked above)
            }

            frame = new PlumtreeBeacon(root, hops);
            return true;
        }

        bool graft = line.StartsWith(GraftPrefix);
        if (!graft && !line.StartsWith(PrunePrefix))
        {
            return false;
        }

        ReadOnlySpan<byte> after = line[(graft ? GraftPrefix.Length : PrunePrefix.Length)..];
        int author = authors.IndexOfCanonical(after[..NameLength]);
        after = after[NameLength..];
        if (author < 0 || after[0] != (byte)'"')
        {
            return false;
        }

        ReadOnlySpan<byte> flags = after[1..^1];
        bool optimisation = !graft && flags.StartsWith(Optimisation);
        if (optimisation)
        {
            flags = flags[Optimisation.Length..];
        }

        bool rooted = flags.StartsWith(Rooted);
        if (rooted)
        {
            flags = flags[Rooted.Length..];
        }

        if (!flags.IsEmpty)
        {
            return false;
        }

        frame = graft ? new PlumtreeGraft(null, author) { Rooted = rooted } : new PlumtreePrune(author, optimisation) { Rooted = rooted };
        return true;
    }

    /// <summary>
    /// Reads a <c>msg</c> frame in the writer's exact form, for the receive path only: unlike every other reader here,
    /// it leaves the check that the embedded line is one JSON value to <see cref="V1Envelope.TryParse"/>, which the
    /// receive path runs on every line before anything reads it (<see cref="V2FrameReader"/> checks it itself).
    /// </summary>
    public static bool TryReadMessage(ReadOnlySpan<byte> line, V2Authors authors, out PlumtreeMessage? frame)
    {
        frame = null;
        if (!line.StartsWith(MsgPrefix))
        {
            return false;
        }

        ReadOnlySpan<byte> rest = line[MsgPrefix.Length..];
        if (rest.Length < 2 || rest[1] != (byte)'"')
        {
            return false;
        }

        PlumtreeSendKind kind;
        switch (rest[0])
        {
            case (byte)'e': kind = PlumtreeSendKind.Eager; break;
            case (byte)'g': kind = PlumtreeSendKind.Graft; break;
            case (byte)'s': kind = PlumtreeSendKind.Sync; break;
            default: return false;
        }

        rest = rest[2..];
        int hops = 0, age = 0, root = -1;
        if (rest.StartsWith(MsgHops) && !TryTakeNumber(ref rest, MsgHops.Length, V2Frames.MaxHops, out hops))
        {
            return false;
        }

        if (rest.StartsWith(MsgAge) && !TryTakeNumber(ref rest, MsgAge.Length, int.MaxValue, out age))
        {
            return false;
        }

        bool authorTree = rest.StartsWith(MsgAuthorTree);
        if (authorTree)
        {
            rest = rest[MsgAuthorTree.Length..];
        }

        if (rest.StartsWith(MsgRoot))
        {
            rest = rest[MsgRoot.Length..];
            if (rest.Length < NameLength + 1 || rest[NameLength] != (byte)'"' || (root = authors.IndexOfCanonical(rest[..NameLength])) < 0)
            {
                return false;
            }

            rest = rest[(NameLength + 1)..];
        }

        // What is left is "m", the line, and the frame's closing brace: the line as an object, nothing around it.
        if (!rest.StartsWith(MsgLine) || rest.Length < MsgLine.Length + 3)
        {
            return false;
        }

        ReadOnlySpan<byte> embedded = rest[MsgLine.Length..^1];
        if (embedded.Length < 2 || embedded[0] != (byte)'{' || embedded[^1] != (byte)'}' || rest[^1] != (byte)'}' ||
            !System.Text.Unicode.Utf8.IsValid(embedded))
        {
            return false;
        }

        byte[] bytes = embedded.ToArray();
        frame = new PlumtreeMessage(default, bytes.Length, kind, hops, authorTree) { Line = bytes, AgeMs = age, Root = root };
        return true;
    }

    /// <summary>Takes a member's plain decimal value (1 … <paramref name="max"/>, no sign, no leading zero) after its name.</summary>
    private static bool TryTakeNumber(ref ReadOnlySpan<byte> rest, int nameLength, int max, out int value)
    {
        value = 0;
        ReadOnlySpan<byte> digits = rest[nameLength..];
        int length = digits.IndexOfAnyExceptInRange((byte)'0', (byte)'9');
        if (length <= 0 || length > 10 || digits[0] == (byte)'0' ||
            !long.TryParse(digits[..length], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long number) ||
            number > max)
        {
            return false;
        }

        value = (int)number;
        rest = digits[length..];
        return true;
    }

    /// <summary>
    /// Writes <paramref name="frame"/> and its newline if it is one of these frames (a <c>graft</c> without an id);
    /// returns the bytes written, or 0 (nothing written) for any other frame.
    /// </summary>
    /// <exception cref="ArgumentException">Nothing was written: the author was not interned, or a beacon's hops are below 1.</exception>
    public static int TryWriteLine(IGossipFrame frame, V2Authors authors, IBufferWriter<byte> output)
    {
        switch (frame)
        {
            case PlumtreeBeacon beacon:
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(beacon.Hops, 1, nameof(frame));
                byte[] name = authors.Utf8NameOf(beacon.Root);
                Span<byte> span = output.GetSpan(TreePrefix.Length + NameLength + HopsMember.Length + 7);
                int at = Put(span, 0, TreePrefix);
                at = Put(span, at, name);
                at = Put(span, at, HopsMember);
                at += Format(Math.Min(beacon.Hops, V2Frames.MaxHops), span[at..]);
                at = Put(span, at, "}\n"u8);
                output.Advance(at);
                return at;
            }

            case PlumtreeMessage message:
                return WriteMessage(message, authors, output);
            case PlumtreeGraft { Id: null } graft:
                return WriteAuthorFrame(GraftPrefix, authors.Utf8NameOf(graft.Author), optimisation: false, graft.Rooted, output);
            case PlumtreePrune prune:
                return WriteAuthorFrame(PrunePrefix, authors.Utf8NameOf(prune.Author), prune.Optimisation, prune.Rooted, output);
            default:
                return 0;
        }
    }

    private static int WriteMessage(PlumtreeMessage message, V2Authors authors, IBufferWriter<byte> output)
    {
        V2MessageCodec.Validate(message, authors);
        byte[] line = message.Line!;
        byte[]? root = message.Root >= 0 ? authors.Utf8NameOf(message.Root) : null;
        Span<byte> span = output.GetSpan(MsgPrefix.Length + 2 + MsgHops.Length + 5 + MsgAge.Length + 10 + MsgAuthorTree.Length +
            MsgRoot.Length + NameLength + 1 + MsgLine.Length + line.Length + 2);
        int at = Put(span, 0, MsgPrefix);
        span[at++] = message.Kind switch
        {
            PlumtreeSendKind.Eager => (byte)'e',
            PlumtreeSendKind.Graft => (byte)'g',
            _ => (byte)'s',
        };
        span[at++] = (byte)'"';
        if (message.Hops > 0)
        {
            at = Put(span, at, MsgHops);
            at += Format(Math.Min(message.Hops, V2Frames.MaxHops), span[at..]);
        }

        long age = Math.Clamp(message.AgeMs, 0, int.MaxValue);
        if (age > 0)
        {
            at = Put(span, at, MsgAge);
            at += Format(age, span[at..]);
        }

        if (message.AuthorTree)
        {
            at = Put(span, at, MsgAuthorTree);
        }

        if (root is not null)
        {
            at = Put(span, at, MsgRoot);
            at = Put(span, at, root);
            span[at++] = (byte)'"';
        }

        at = Put(span, at, MsgLine);
        at = Put(span, at, line);
        at = Put(span, at, "}\n"u8);
        output.Advance(at);
        return at;
    }

    private static int Format(long value, Span<byte> destination)
    {
        bool formatted = value.TryFormat(destination, out int written, provider: System.Globalization.CultureInfo.InvariantCulture);
        System.Diagnostics.Debug.Assert(formatted);
        return written;
    }

    private static int WriteAuthorFrame(ReadOnlySpan<byte> prefix, byte[] name, bool optimisation, bool rooted, IBufferWriter<byte> output)
    {
        Span<byte> span = output.GetSpan(prefix.Length + NameLength + 1 + Optimisation.Length + Rooted.Length + 2);
        int at = Put(span, 0, prefix);
        at = Put(span, at, name);
        span[at++] = (byte)'"';
        if (optimisation)
        {
            at = Put(span, at, Optimisation);
        }

        if (rooted)
        {
            at = Put(span, at, Rooted);
        }

        at = Put(span, at, "}\n"u8);
        output.Advance(at);
        return at;
    }

    private static int Put(Span<byte> span, int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(span[at..]);
        return at + bytes.Length;
    }
}
