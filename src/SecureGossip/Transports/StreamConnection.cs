using System.IO.Pipelines;
using System.Net;

namespace SecureGossip.Transports;

/// <summary>
/// A connection over any duplex <see cref="Stream"/>: a <see cref="System.Net.Sockets.NetworkStream"/>, a
/// WebSocket stream, a named pipe, or the stream of a JS-style <c>createPeerStream()</c>.
/// </summary>
public sealed class StreamConnection : GossipConnection
{
    private readonly Stream _stream;
    private readonly EndPoint? _remote;

    /// <summary>Adapts <paramref name="stream"/>; the connection owns it and disposes it.</summary>
    public StreamConnection(Stream stream, EndPoint? remoteEndPoint = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        _remote = remoteEndPoint;
        Input = PipeReader.Create(stream, new StreamPipeReaderOptions(pool: BlockPool.Shared, bufferSize: BlockPool.BlockSize, leaveOpen: true));
        Output = PipeWriter.Create(stream, new StreamPipeWriterOptions(pool: BlockPool.Shared, minimumBufferSize: BlockPool.BlockSize, leaveOpen: true));
    }

    /// <summary>How long closing waits for what is still buffered to be written before it closes the stream under it.</summary>
    public static readonly TimeSpan FlushOnCloseTimeout = TimeSpan.FromSeconds(2);

    /// <inheritdoc/>
    public override PipeReader Input { get; }

    /// <inheritdoc/>
    public override PipeWriter Output { get; }

    /// <inheritdoc/>
    public override EndPoint? RemoteEndPoint => _remote;

    /// <inheritdoc/>
    protected override async ValueTask DisposeCoreAsync()
    {
        // Completing the writer flushes what is buffered, which fails on a dead socket ("Broken pipe"): the stream
        // is released whatever the earlier steps did, and the first failure is reported after.
        // A peer that stopped reading would hold that flush forever: after a short wait the stream is closed under
        // it, which fails the pending write.
        Exception? first = null;
        Task completing = Output.CompleteAsync().AsTask();
        if (await Task.WhenAny(completing, Task.Delay(FlushOnCloseTimeout)) != completing)
        {
            await _stream.DisposeAsync();
        }

        try
        {
            await completing;
        }
        catch (Exception e)
        {
            first = e;
        }

        try
        {
            await Input.CompleteAsync();
        }
        catch (Exception e)
        {
            first ??= e;
        }

        try
        {
            await _stream.DisposeAsync();
        }
        catch (Exception e)
        {
            first ??= e;
        }

        if (first is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }
    }
}
