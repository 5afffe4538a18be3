using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Protocol;

/// <summary>
/// Writes the core's frame records as v2 frames (docs/PROTOCOL.md §4): one JSON object per line, straight into an
/// <see cref="IBufferWriter{T}"/> such as a connection's <see cref="System.IO.Pipelines.PipeWriter"/>.
/// </summary>
/// <remarks>
/// <para>
/// <c>sg2</c> is always the first member, optional members are left out when they hold their default, and a
/// <c>msg</c> frame's <c>m</c> is the message's line copied byte for byte, last. Each frame type's members are written
/// by its codec (<see cref="V2MessageCodec"/>, <see cref="V2IHaveCodec"/>, <see cref="V2GraftPruneCodec"/>,
/// <see cref="V2SyncCodec"/>, <see cref="V2WantCodec"/>).
/// </para>
/// <para>
/// A frame is checked whole before its first byte is written, so a frame that cannot go on the wire throws and leaves
/// the output as it was: half a frame in a pipe would corrupt every line after it.
/// </para>
/// </remarks>
internal static class V2FrameWriter
{
    // Only ASCII is ever written through the encoder (type names, base64, canonical key names), so the relaxed
    // encoder changes nothing but this: '+' stays '+' instead of becoming "\u002B" inside base64.
    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // A cached writer is reset onto this between frames, so it holds no connection's pipe alive.
    private static readonly ArrayBufferWriter<byte> s_detached = new(1);

    // One writer per thread, reused: a Utf8JsonWriter per frame would be most of what encoding allocates.
    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>Writes <paramref name="frame"/> as one line, without its trailing newline, to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException">
    /// Nothing was written: the frame is not a v2 frame type, a <see cref="PlumtreeMessage"/> has no
    /// <see cref="PlumtreeMessage.Line"/> (or one that is not a single-line JSON object), an id that must go on the wire
    /// as a digest has none, or an author index was not interned in <paramref name="authors"/>.
    /// </exception>
    public static void Write(IGossipFrame frame, V2Authors authors, IBufferWriter<byte> output) => WriteFrame(frame, authors, output);

    /// <summary>Writes <paramref name="frame"/> and its <c>\n</c>; returns the bytes written, newline included.</summary>
    /// <exception cref="ArgumentException">As <see cref="Write"/>; nothing was written.</exception>
    public static int WriteLine(IGossipFrame frame, V2Authors authors, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(authors);
        ArgumentNullException.ThrowIfNull(output);
        int small = V2FixedFrames.TryWriteLine(frame, authors, output);
        if (small > 0)
        {
            return small;
        }

        long written = WriteFrame(frame, authors, output);
        output.GetSpan(1)[0] = (byte)'\n';
        output.Advance(1);
        return checked((int)written + 1);
    }

    /// <summary>The frame as a new array, without its trailing newline.</summary>
    /// <exception cref="ArgumentException">As <see cref="Write"/>.</exception>
    public static byte[] Encode(IGossipFrame frame, V2Authors authors)
    {
        using var buffer = new ByteBuffer(frame is PlumtreeMessage { Line: { } line } ? line.Length + 64 : 256);
        WriteFrame(frame, authors, buffer);
        return buffer.ToArray();
    }

    private static long WriteFrame(IGossipFrame frame, V2Authors authors, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(authors);
        ArgumentNullException.ThrowIfNull(output);
        Validate(frame, authors);

        // Taken out of the cache while in use, so that an exception half way (none is expected once validated) leaves
        // the cache empty rather than holding a writer in an unknown state.
        Utf8JsonWriter writer = t_writer ?? new Utf8JsonWriter(s_detached, s_options);
        t_writer = null;
        writer.Reset(output);
        writer.WriteStartObject();
        switch (frame)
        {
            case PlumtreeMessage message:
                V2MessageCodec.Write(writer, message, authors);
                break;
            case PlumtreeIHave ihave:
                V2IHaveCodec.Write(writer, ihave);
                break;
            case PlumtreeGraft graft:
                V2GraftPruneCodec.Write(writer, graft, authors);
                break;
            case PlumtreePrune prune:
                V2GraftPruneCodec.Write(writer, prune, authors);
                break;
            case PlumtreeSync sync:
                V2SyncCodec.Write(writer, sync, authors);
                break;
            case PlumtreeBeacon beacon:
                V2GraftPruneCodec.Write(writer, beacon, authors);
                break;
            default:
                V2WantCodec.Write(writer, (PlumtreeWant)frame, authors);
                break;
        }

        writer.WriteEndObject();
        writer.Flush();
        long written = writer.BytesCommitted;
        writer.Reset(s_detached);
        t_writer = writer;
        return written;
    }

    private static void Validate(IGossipFrame frame, V2Authors authors)
    {
        switch (frame)
        {
            case PlumtreeMessage message:
                V2MessageCodec.Validate(message, authors);
                break;
            case PlumtreeIHave ihave:
                V2IHaveCodec.Validate(ihave);
                break;
            case PlumtreeGraft graft:
                V2GraftPruneCodec.Validate(graft, authors);
                break;
            case PlumtreePrune prune:
                V2GraftPruneCodec.Validate(prune, authors);
                break;
            case PlumtreeSync sync:
                V2SyncCodec.Validate(sync, authors);
                break;
            case PlumtreeWant want:
                V2WantCodec.Validate(want, authors);
                break;
            case PlumtreeBeacon beacon:
                V2GraftPruneCodec.Validate(beacon, authors);
                break;
            default:
                throw new ArgumentException($"{frame.GetType().Name} is not a v2 frame type this codec writes.", nameof(frame));
        }
    }
}
