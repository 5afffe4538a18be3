using System.Buffers;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Protocol;

/// <summary>
/// The small frames that build and shape trees (<c>tree</c>, and <c>graft</c> and <c>prune</c> naming an author; docs/PROTOCOL.md
/// §4.2, §8.8) in the one spelling every node writes: <c>sg2</c> first, members in the writer's order, no whitespace,
/// the author's canonical name. They are most of the frames while trees form (59 % of a cold 200-node burst), so
/// they are read and written here byte for byte, without a JSON reader or writer.
/// </summary>
/// <remarks>
/// Only an exact match is read here; anything else (another order, whitespace, escapes, another spelling of a key, an
/// author this node has not interned yet, an id) returns <see langword="false"/> and goes to
/// <see cref="V2FrameReader"/>, which reads every valid frame. So the fast path never accepts a line the full
/// reader would refuse, and reads what it accepts as the full reader would (tested on every form and on mutations).
/// </remarks>
internal static class V2TreeFrames
{
    private const int NameLength = 52; // 44 characters of base64, then ".ed25519"

    private static ReadOnlySpan<byte> TreePrefix => "{\"sg2\":\"tree\",\"a\":\""u8;

    private static ReadOnlySpan<byte> GraftPrefix => "{\"sg2\":\"graft\",\"a\":\""u8;

    private static ReadOnlySpan<byte> PrunePrefix => "{\"sg2\":\"prune\",\"a\":\""u8;

    private static ReadOnlySpan<byte> HopsMember => "\",\"h\":"u8;

    private static ReadOnlySpan<byte> Rooted => ",\"r\":1"u8;

    private static ReadOnlySpan<byte> Optimisation => ",\"o\":1"u8;

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
            if (root < 0 || !rest.StartsWith(HopsMember) || !TryParseHops(rest[HopsMember.Length..^1], out int hops))
            {
                return false;
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
                bool formatted = Math.Min(beacon.Hops, V2Frames.MaxHops).TryFormat(span[at..], out int digits, provider: System.Globalization.CultureInfo.InvariantCulture);
                System.Diagnostics.Debug.Assert(formatted);
                at += digits;
                at = Put(span, at, "}\n"u8);
                output.Advance(at);
                return at;
            }

            case PlumtreeGraft { Id: null } graft:
                return WriteAuthorFrame(GraftPrefix, authors.Utf8NameOf(graft.Author), optimisation: false, graft.Rooted, output);
            case PlumtreePrune prune:
                return WriteAuthorFrame(PrunePrefix, authors.Utf8NameOf(prune.Author), prune.Optimisation, prune.Rooted, output);
            default:
                return 0;
        }
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

    /// <summary>1 … <see cref="V2Frames.MaxHops"/> in plain digits, no sign, no leading zero.</summary>
    private static bool TryParseHops(ReadOnlySpan<byte> digits, out int hops)
    {
        hops = 0;
        if (digits.IsEmpty || digits.Length > 5 || digits[0] == (byte)'0')
        {
            return false;
        }

        foreach (byte digit in digits)
        {
            if (digit is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            hops = (hops * 10) + (digit - '0');
        }

        return hops <= V2Frames.MaxHops;
    }
}
