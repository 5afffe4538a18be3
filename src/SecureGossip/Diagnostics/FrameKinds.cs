using System.Buffers;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Diagnostics;

/// <summary>What a line on a link is, for the frame counters by type (<c>gossip.frames.received/sent</c>, tag <c>gossip.frame.type</c>).</summary>
internal static class FrameKinds
{
    public const int V1Line = 0;
    public const int Other = 1;

    /// <summary>The tag values, by kind; a v2 frame's kind is its <c>sg2</c> type.</summary>
    public static readonly string[] Names = ["v1_line", "other", "hello", "ping", "msg", "ihave", "graft", "prune", "want", "sync", "tree", "hv"];

    private static readonly byte[][] s_types = [.. Names.Select(System.Text.Encoding.ASCII.GetBytes)];

    public static int Kinds => Names.Length;

    /// <summary>Counts one line of <paramref name="kind"/> in <paramref name="counts"/>.</summary>
    public static void Count(long[] counts, int kind) => Interlocked.Increment(ref counts[kind]);

    /// <summary>Counts a received line by its first bytes.</summary>
    public static void CountReceived(long[] counts, in System.Buffers.ReadOnlySequence<byte> line)
    {
        Span<byte> head = stackalloc byte[16];
        int length = (int)Math.Min(16, line.Length);
        line.Slice(0, length).CopyTo(head);
        Count(counts, Of(head[..length]));
    }

    /// <summary>A frame the core made.</summary>
    public static int Of(IGossipFrame frame) => frame switch
    {
        PlumtreeMessage => 4,
        PlumtreeIHave => 5,
        PlumtreeGraft => 6,
        PlumtreePrune => 7,
        PlumtreeWant => 8,
        PlumtreeSync => 9,
        PlumtreeBeacon => 10,
        _ => Other,
    };

    /// <summary>
    /// A line by its first bytes: a v2 frame (<c>{"sg2":"TYPE"</c>, which every frame this project writes starts
    /// with) by its type, anything else a v1 line.
    /// </summary>
    public static int Of(ReadOnlySpan<byte> head)
    {
        ReadOnlySpan<byte> prefix = "{\"sg2\":\""u8;
        if (!head.StartsWith(prefix))
        {
            return head.TrimStart(" \t"u8).StartsWith(prefix) ? Other : V1Line;
        }

        ReadOnlySpan<byte> rest = head[prefix.Length..];
        int end = rest.IndexOf((byte)'"');
        if (end < 0)
        {
            return Other;
        }

        ReadOnlySpan<byte> type = rest[..end];
        for (int kind = 2; kind < Names.Length; kind++)
        {
            if (type.SequenceEqual(s_types[kind]))
            {
                return kind;
            }
        }

        return Other;
    }
}
