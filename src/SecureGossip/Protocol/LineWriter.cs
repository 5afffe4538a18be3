using System.Buffers;

namespace SecureGossip.Protocol;

/// <summary>Writes newline-terminated lines (v1 lines, v2 frames) into an <see cref="IBufferWriter{T}"/>.</summary>
internal static class LineWriter
{
    /// <summary>Writes <paramref name="line"/> and its newline; returns the bytes written.</summary>
    public static int Write(IBufferWriter<byte> output, ReadOnlySpan<byte> line)
    {
        Span<byte> span = output.GetSpan(line.Length + 1);
        line.CopyTo(span);
        span[line.Length] = (byte)'\n';
        output.Advance(line.Length + 1);
        return line.Length + 1;
    }

    /// <summary>Encodes a v2 frame as a line; returns the bytes written.</summary>
    public static int WriteFrame(Core.IGossipFrame frame, V2Authors authors, IBufferWriter<byte> output) =>
        Write(output, V2Frames.Encode(frame, authors));
}
