using System.Buffers;

namespace SecureGossip.Receive;

/// <summary>
/// Splits a link's bytes into lines at <c>\n</c>, as the JS package's split stream does: a line longer than the
/// limit is reported once (with the length seen) and skipped up to its newline, without being buffered; at the end
/// of the stream the unterminated tail is a line too.
/// </summary>
internal struct LineFramer(int maxLineLength)
{
    private bool _discarding;

    public enum Result
    {
        /// <summary>No complete line in the buffer: read more.</summary>
        NeedMore,

        /// <summary>A line, without its newline.</summary>
        Line,

        /// <summary>A line over the limit was skipped (or is being skipped); its length so far is reported.</summary>
        TooLong,
    }

    /// <summary>Takes the next line off the front of <paramref name="buffer"/>; <paramref name="final"/>: no more bytes will come.</summary>
    public Result TryReadLine(ref ReadOnlySequence<byte> buffer, bool final, out ReadOnlySequence<byte> line, out long tooLongLength)
    {
        line = default;
        tooLongLength = 0;
        while (buffer.PositionOf((byte)'\n') is SequencePosition newline)
        {
            ReadOnlySequence<byte> candidate = buffer.Slice(0, newline);
            buffer = buffer.Slice(buffer.GetPosition(1, newline));
            if (_discarding)
            {
                _discarding = false; // the end of a line already reported as too long
                continue;
            }

            if (candidate.Length > maxLineLength)
            {
                tooLongLength = candidate.Length;
                return Result.TooLong;
            }

            line = candidate;
            return Result.Line;
        }

        if (!_discarding && buffer.Length > maxLineLength)
        {
            _discarding = true;
            tooLongLength = buffer.Length;
            buffer = buffer.Slice(buffer.End);
            return Result.TooLong;
        }

        if (_discarding)
        {
            buffer = buffer.Slice(buffer.End);
            return Result.NeedMore;
        }

        if (final && buffer.Length > 0)
        {
            line = buffer;
            buffer = buffer.Slice(buffer.End);
            return Result.Line;
        }

        return Result.NeedMore;
    }
}
