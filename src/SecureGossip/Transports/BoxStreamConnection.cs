using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using SecureGossip.Crypto;

namespace SecureGossip.Transports;

/// <summary>
/// A connection whose bytes cross the wrapped one in box-stream (after a secret handshake): what the node writes is
/// sealed in chunks of at most 4 KiB, what arrives is opened and checked box by box. A box that does not open (bytes
/// changed, replayed, reordered or cut) ends the connection with a <see cref="BoxStreamException"/> on
/// <see cref="Input"/>; closing the connection sends the goodbye first.
/// </summary>
internal sealed class BoxStreamConnection : GossipConnection
{
    private readonly GossipConnection _inner;
    private readonly Pipe _in = new(BlockPool.PipeOptions(1024 * 1024));
    private readonly Pipe _out = new(BlockPool.PipeOptions(1024 * 1024));
    private readonly Task _pumps;

    public BoxStreamConnection(GossipConnection inner, BoxStreamKeys keys)
    {
        _inner = inner;
        PeerKey = keys.RemoteKey;
        Direction = inner.Direction;
        inner.Closed.Register(static s => ((BoxStreamConnection)s!).Abort("the wrapped connection closed"), this);
        _pumps = Task.WhenAll(
            OpenAsync(inner.Input, _in.Writer, new BoxStream.Opener(keys.DecryptKey, keys.DecryptNonce)),
            SealAsync(_out.Reader, inner.Output, new BoxStream.Sealer(keys.EncryptKey, keys.EncryptNonce)));
    }

    /// <summary>
    /// A box did not open: the bytes were changed, dropped, replayed or reordered in transit. Set before the connection
    /// is aborted, so the link counts it however its read loop learns of the end (the failure or the abort).
    /// </summary>
    public bool Broken { get; private set; }

    public override PipeReader Input => _in.Reader;

    public override PipeWriter Output => _out.Writer;

    public override EndPoint? RemoteEndPoint => _inner.RemoteEndPoint;

    protected override async ValueTask DisposeCoreAsync()
    {
        await _out.Writer.CompleteAsync(); // the sealer says goodbye and completes the wrapped output
        await _in.Reader.CompleteAsync();
        try
        {
            await _pumps.WaitAsync(StreamConnection.FlushOnCloseTimeout);
        }
        catch (Exception e) when (e is TimeoutException or IOException or OperationCanceledException or InvalidOperationException or BoxStreamException)
        {
            // Closing anyway: the wrapped connection is disposed next.
        }

        await _inner.DisposeAsync();
    }

    private async Task OpenAsync(PipeReader from, PipeWriter to, BoxStream.Opener opener)
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                ReadResult read = await from.ReadAsync();
                ReadOnlySequence<byte> buffer = read.Buffer;
                bool opened = false;
                while (opener.TryOpen(ref buffer, to))
                {
                    opened = true;
                }

                from.AdvanceTo(buffer.Start, buffer.End);
                if (opened)
                {
                    FlushResult flushed = await to.FlushAsync();
                    if (flushed.IsCompleted)
                    {
                        break;
                    }
                }

                if (opener.Ended)
                {
                    break;
                }

                if (read.IsCompleted || read.IsCanceled)
                {
                    // Cut: what opened before is delivered (it was authenticated) and the stream ends there; the
                    // reason is the connection's, so the link's end is logged as a cut, not as a goodbye.
                    Abort("the box-stream was cut (it ended without its goodbye)");
                    break;
                }
            }
        }
        catch (Exception e) when (e is BoxStreamException or IOException or InvalidOperationException or OperationCanceledException)
        {
            Broken |= e is BoxStreamException; // before the abort: whoever sees the link end sees why
            failure = e; // a box that did not open: nothing after it can be trusted, and the reader hears why
            Abort(e.Message);
        }
        finally
        {
            await from.CompleteAsync();
            await to.CompleteAsync(failure);
        }
    }

    private static async Task SealAsync(PipeReader from, PipeWriter to, BoxStream.Sealer sealer)
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                ReadResult read = await from.ReadAsync();
                ReadOnlySequence<byte> buffer = read.Buffer;
                if (!buffer.IsEmpty)
                {
                    SealAll(buffer, to, sealer);
                    from.AdvanceTo(buffer.End);
                    FlushResult flushed = await to.FlushAsync();
                    if (flushed.IsCompleted)
                    {
                        return;
                    }
                }
                else
                {
                    from.AdvanceTo(buffer.End);
                }

                if (read.IsCompleted || read.IsCanceled)
                {
                    sealer.Goodbye(to);
                    await to.FlushAsync();
                    return;
                }
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or OperationCanceledException)
        {
            failure = e;
        }
        finally
        {
            await from.CompleteAsync(failure);
            await to.CompleteAsync(failure);
        }
    }

    private static void SealAll(ReadOnlySequence<byte> buffer, PipeWriter to, BoxStream.Sealer sealer)
    {
        byte[] chunk = ArrayPool<byte>.Shared.Rent(BoxStream.MaxChunk);
        try
        {
            while (!buffer.IsEmpty)
            {
                int length = (int)Math.Min(BoxStream.MaxChunk, buffer.Length);
                buffer.Slice(0, length).CopyTo(chunk);
                sealer.Seal(chunk.AsSpan(0, length), to);
                buffer = buffer.Slice(length);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }
}
