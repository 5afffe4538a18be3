using System.Buffers;

namespace SecureGossip.Protocol;

/// <summary>
/// Splits a connection's bytes into lines (docs/PROTOCOL.md §4.1: NDJSON, one message or frame per line, as the JS
/// split stream reads them), with a limit on a line's length. One framer per connection: it remembers, between reads,
/// that it is skipping the rest of a line too long to keep, and how far it has already looked for a newline.
/// </summary>
/// <remarks>
/// <para>
/// The caller's read loop, over a <see cref="System.IO.Pipelines.PipeReader"/>:
/// <code>
/// ReadOnlySequence&lt;byte&gt; buffer = result.Buffer;
/// bool completed = result.IsCompleted || result.IsCanceled;
/// while (framer.TryReadLine(ref buffer, completed, out ReadOnlySequence&lt;byte&gt; line, out long tooLong))
/// {
///     if (tooLong &gt; 0) { /* count and log a line of tooLong bytes (or more) */ continue; }
///     /* handle line */
/// }
/// input.AdvanceTo(buffer.Start, buffer.End);
/// </code>
/// </para>
/// <para>
/// Lines end at <c>\n</c> (a <c>\r</c> before it stays in the line, as JSON whitespace). A line longer than
/// <see cref="MaxLineLength"/> is reported once, with its length if its end is already buffered, or else with the
/// length buffered when it went over the limit; its bytes are dropped as they arrive, up to and including its
/// newline, so memory stays bounded by the limit, not by what a peer sends. At the end of the stream the unterminated
/// tail is a line too. An empty line is a line (the caller drops it like any other malformed one).
/// </para>
/// <para>
/// The buffer passed to each call must start where the previous call left it (the unconsumed remainder, plus what
/// has arrived since), as a <see cref="System.IO.Pipelines.PipeReader"/> hands it back after
/// <c>AdvanceTo(buffer.Start, buffer.End)</c>: the framer does not search again the bytes it has already searched.
/// </para>
/// </remarks>
internal sealed class LineFramer
{
    /// <summary>Skipping the rest of a line already reported as too long.</summary>
    private bool _discarding;

    /// <summary>How many bytes at the start of the buffer are known to hold no newline.</summary>
    private long _searched;

    /// <summary>A framer that keeps lines of up to <paramref name="maxLineLength"/> bytes, newline not counted.</summary>
    public LineFramer(int maxLineLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLineLength);
        MaxLineLength = maxLineLength;
    }

    /// <summary>The longest line kept, in bytes, newline not counted.</summary>
    public int MaxLineLength { get; }

    /// <summary>
    /// Takes the next line, or the next report of a line too long, off the front of <paramref name="buffer"/>.
    /// Returns <see langword="false"/> when the buffer holds no more (the caller reads more bytes, or stops if the
    /// stream has ended); what is left in <paramref name="buffer"/> then is the start of a line yet to end.
    /// </summary>
    /// <param name="buffer">The bytes not yet framed; advanced past what was taken.</param>
    /// <param name="isCompleted">No more bytes will come: the unterminated tail is a line.</param>
    /// <param name="line">The line, without its newline; empty when <paramref name="tooLongLength"/> is set.</param>
    /// <param name="tooLongLength">
    /// 0 for a line; otherwise the line was longer than <see cref="MaxLineLength"/> and is dropped, and this is its
    /// length as far as it is known.
    /// </param>
    public bool TryReadLine(ref ReadOnlySequence<byte> buffer, bool isCompleted, out ReadOnlySequence<byte> line, out long tooLongLength)
    {
        line = default;
        tooLongLength = 0;
        if (_searched > 0 && _searched > buffer.Length)
        {
            // Not the buffer this framer saw last (the caller consumed more than it was given back): search it all.
            _searched = 0;
        }

        while (TryTakeThroughNewline(ref buffer, out ReadOnlySequence<byte> found))
        {
            _searched = 0;
            if (_discarding)
            {
                _discarding = false; // the end of a line already reported
                continue;
            }

            if (found.Length > MaxLineLength)
            {
                tooLongLength = found.Length;
                return true;
            }

            line = found;
            return true;
        }

        if (!_discarding && buffer.Length > MaxLineLength)
        {
            // Over the limit before its end arrived: report it now, and drop it as it comes.
            _discarding = true;
            tooLongLength = buffer.Length;
            buffer = buffer.Slice(buffer.End);
            _searched = 0;
            return true;
        }

        if (_discarding)
        {
            buffer = buffer.Slice(buffer.End);
            _searched = 0;
            return false;
        }

        if (isCompleted && buffer.Length > 0)
        {
            // Like the JS split stream, the unterminated tail is a line too.
            line = buffer;
            buffer = buffer.Slice(buffer.End);
            _searched = 0;
            return true;
        }

        _searched = buffer.Length;
        return false;
    }

    /// <summary>
    /// Takes the bytes up to the first newline (returned, without it) and the newline off the front of the buffer,
    /// starting the search past the bytes already searched.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private bool TryTakeThroughNewline(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> found)
    {
        // Most lines end in the first segment: found by offset there, which slices cheaper than positions do.
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (_searched < first.Length)
        {
            int index = first[(int)_searched..].IndexOf((byte)'\n');
            if (index >= 0)
            {
                long end = _searched + index;
                found = buffer.Slice(0, end);
                buffer = buffer.Slice(end + 1);
                return true;
            }
        }

        if (!buffer.IsSingleSegment
            && buffer.Slice(Math.Max(_searched, first.Length)).PositionOf((byte)'\n') is SequencePosition newline)
        {
            found = buffer.Slice(0, newline);
            buffer = buffer.Slice(buffer.GetPosition(1, newline));
            return true;
        }

        found = default;
        return false;
    }
}
