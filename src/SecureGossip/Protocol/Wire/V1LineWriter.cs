using System.Buffers;

namespace SecureGossip.Protocol;

/// <summary>
/// Writes a line as it goes on the wire: its bytes as given, then <c>\n</c> (NDJSON, as secure-gossip 0.3.1's
/// <c>JSON.stringify(msg) + '\n'</c>). A v1 message line and an already encoded v2 frame are written alike; the line
/// must not hold a newline of its own, which the encoders that made it guarantee.
/// </summary>
internal static class V1LineWriter
{
    /// <summary>Writes <paramref name="line"/> and its <c>\n</c>; returns the bytes written, newline included.</summary>
    public static int WriteLine(ReadOnlySpan<byte> line, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        System.Diagnostics.Debug.Assert(!line.Contains((byte)'\n'), "a line with a newline of its own would be two lines on the wire");
        Span<byte> span = output.GetSpan();
        if (span.Length > line.Length)
        {
            // The common case, one copy into the current segment.
            line.CopyTo(span);
            span[line.Length] = (byte)'\n';
            output.Advance(line.Length + 1);
        }
        else
        {
            // A line longer than what the output has at hand is copied across as many spans as it takes.
            output.Write(line);
            output.Write("\n"u8);
        }

        return line.Length + 1;
    }
}
