using System.Buffers;

namespace SecureGossip.Tests.Protocol.Wire;

/// <summary>Multi-segment <see cref="ReadOnlySequence{T}"/>s, as a pipe hands over bytes that arrived in pieces.</summary>
internal static class Segments
{
    /// <summary>One segment per part, in order (empty parts included).</summary>
    public static ReadOnlySequence<byte> Of(params ReadOnlyMemory<byte>[] parts)
    {
        if (parts.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(parts[0], 0);
        Segment last = first;
        foreach (ReadOnlyMemory<byte> part in parts.AsSpan(1))
        {
            last = last.Append(part);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary><paramref name="bytes"/> cut at random places into pieces of 0 to <paramref name="maxPiece"/> bytes.</summary>
    public static ReadOnlySequence<byte> Split(ReadOnlyMemory<byte> bytes, Random random, int maxPiece)
    {
        var parts = new List<ReadOnlyMemory<byte>>();
        int offset = 0;
        while (offset < bytes.Length)
        {
            int piece = Math.Min(random.Next(0, maxPiece + 1), bytes.Length - offset);
            parts.Add(bytes.Slice(offset, piece));
            offset += piece;
        }

        return Of([.. parts]);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
