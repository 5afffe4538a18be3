using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Protocol;

/// <summary>
/// Reads one v2 frame (docs/PROTOCOL.md §4.1) into the core's frame records: locates the top-level members
/// (<see cref="V2FrameMembers"/>), then hands them to the codec of the type named by <c>sg2</c>.
/// </summary>
/// <remarks>
/// Reading follows the receiver rules of §4.1: any member order, unknown members ignored, a frame with a top-level
/// <c>data</c>, <c>public</c> or <c>seq</c> dropped. Everything else is strict (integers in range, ids exactly 16
/// bytes of canonical standard base64, no duplicate members), because there is no legacy v2 sender to be lenient
/// with; the one exception is author keys, which are read as leniently as the v1 <c>public</c> is
/// (<see cref="V2Authors"/>), since they are copied from v1 lines. A bad frame is reported, never thrown.
/// </remarks>
internal static class V2FrameReader
{
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
    /// A <see cref="PlumtreeMessage"/> read here has a default <see cref="PlumtreeMessage.Message"/> and a
    /// <see cref="PlumtreeMessage.Line"/> of its own (a copy of <c>m</c>): the caller computes the id from the line.
    /// Ids read from <c>ihave</c>, <c>graft</c> and <c>want.i</c> have <see cref="MessageId.UnknownAuthor"/>. A
    /// <c>sync</c> lists its seq entries (<c>s</c>) before its digest entries (<c>l</c>). Author keys met before a rule
    /// is broken stay interned.
    /// </remarks>
    public static bool TryRead(ReadOnlySpan<byte> line, V2Authors authors, int maxJsonDepth, out IGossipFrame? frame, out string? error)
    {
        ArgumentNullException.ThrowIfNull(authors);
        ArgumentOutOfRangeException.ThrowIfNegative(maxJsonDepth);
        if (V2FixedFrames.TryRead(line, authors, out frame))
        {
            error = null;
            return true;
        }

        return TryReadJson(line, authors, maxJsonDepth, out frame, out error);
    }

    /// <summary>
    /// As <see cref="TryRead(ReadOnlySpan{byte}, V2Authors, int, out IGossipFrame?, out string?)"/>, always through the
    /// JSON reader: every valid frame in any spelling (the fast path of <see cref="V2FixedFrames"/> takes only the
    /// writer's own spelling of the commonest frames).
    /// </summary>
    internal static bool TryReadJson(ReadOnlySpan<byte> line, V2Authors authors, int maxJsonDepth, out IGossipFrame? frame, out string? error)
    {
        frame = null;
        var members = new V2FrameMembers(line, new JsonReaderOptions { MaxDepth = (int)Math.Min(maxJsonDepth + 2L, int.MaxValue) });
        try
        {
            if (!members.TryLocate(out error))
            {
                return false;
            }

            if (members.Count(V2Member.Sg2) == 0)
            {
                error = "no sg2 member";
                return false;
            }

            if (members.Count(V2Member.Sg2) > 1 || members.TypeOf(V2Member.Sg2) != JsonTokenType.String)
            {
                error = members.Count(V2Member.Sg2) > 1 ? "sg2: duplicate member" : "sg2: not a string";
                return false;
            }

            var type = members.Open(V2Member.Sg2);
            if (type.ValueTextEquals("msg"u8))
            {
                return V2MessageCodec.TryRead(members, authors, out frame, out error);
            }

            if (type.ValueTextEquals("ihave"u8))
            {
                return V2IHaveCodec.TryRead(members, out frame, out error);
            }

            if (type.ValueTextEquals("graft"u8))
            {
                return V2GraftPruneCodec.TryReadGraft(members, authors, out frame, out error);
            }

            if (type.ValueTextEquals("prune"u8))
            {
                return V2GraftPruneCodec.TryReadPrune(members, authors, out frame, out error);
            }

            if (type.ValueTextEquals("tree"u8))
            {
                return V2GraftPruneCodec.TryReadTree(members, authors, out frame, out error);
            }

            if (type.ValueTextEquals("sync"u8))
            {
                return V2SyncCodec.TryRead(members, authors, out frame, out error);
            }

            if (type.ValueTextEquals("want"u8))
            {
                return V2WantCodec.TryRead(members, authors, out frame, out error);
            }

            if (type.ValueTextEquals("hello"u8))
            {
                error = null;
                return true;
            }

            ReadOnlySpan<byte> name = type.ValueSpan;
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

    /// <summary>
    /// As <see cref="TryRead(ReadOnlySpan{byte}, V2Authors, int, out IGossipFrame?, out string?)"/>, for a line as the
    /// framer hands it over: read in place when it lies in one segment, else from a pooled copy.
    /// </summary>
    public static bool TryRead(in ReadOnlySequence<byte> line, V2Authors authors, int maxJsonDepth, out IGossipFrame? frame, out string? error)
    {
        if (line.IsSingleSegment)
        {
            return TryRead(line.FirstSpan, authors, maxJsonDepth, out frame, out error);
        }

        // Frames are bounded by the framer's line limit, so the copy is too; nothing read keeps a reference to it.
        int length = checked((int)line.Length);
        byte[] rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            line.CopyTo(rented);
            return TryRead(rented.AsSpan(0, length), authors, maxJsonDepth, out frame, out error);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
