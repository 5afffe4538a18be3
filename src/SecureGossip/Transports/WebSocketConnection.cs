using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;

namespace SecureGossip.Transports;

/// <summary>
/// A connection over a <see cref="WebSocket"/> (a browser's, a JS peer's, or another node's): the gossip byte stream
/// travels in binary WebSocket messages, one per flush of the node's writer; what arrives, binary or text, is read as
/// one stream of bytes, so message boundaries mean nothing. The other side's close ends <see cref="Input"/>;
/// disposing sends a normal close.
/// </summary>
public sealed class WebSocketConnection : GossipConnection
{
    private readonly WebSocket _socket;
    private readonly EndPoint? _remote;
    private readonly Pipe _in = new(BlockPool.PipeOptions(1024 * 1024));
    private readonly Pipe _out = new(BlockPool.PipeOptions(1024 * 1024));
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pumps;

    /// <summary>Adapts an open <paramref name="socket"/>; the connection owns it and closes it when disposed.</summary>
    public WebSocketConnection(WebSocket socket, EndPoint? remoteEndPoint = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        _remote = remoteEndPoint;
        _pumps = Task.WhenAll(ReceiveAsync(), SendAsync());
    }

    /// <inheritdoc/>
    public override PipeReader Input => _in.Reader;

    /// <inheritdoc/>
    public override PipeWriter Output => _out.Writer;

    /// <inheritdoc/>
    public override EndPoint? RemoteEndPoint => _remote;

    /// <inheritdoc/>
    protected override async ValueTask DisposeCoreAsync()
    {
        await _out.Writer.CompleteAsync(); // the sender sends what is left, then a normal close
        await _in.Reader.CompleteAsync();
        try
        {
            await _pumps.WaitAsync(StreamConnection.FlushOnCloseTimeout);
        }
        catch (Exception e) when (e is TimeoutException or WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Closing anyway.
        }
        finally
        {
            await _stop.CancelAsync();
            _socket.Abort();
            _socket.Dispose();
            _stop.Dispose();
        }
    }

    private async Task ReceiveAsync()
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                Memory<byte> memory = _in.Writer.GetMemory(BlockPool.BlockSize);
                ValueWebSocketReceiveResult received = await _socket.ReceiveAsync(memory, _stop.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    Abort("the peer closed the WebSocket");
                    break;
                }

                _in.Writer.Advance(received.Count);
                FlushResult flushed = await _in.Writer.FlushAsync();
                if (flushed.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            failure = e is OperationCanceledException ? null : e;
            Abort($"the WebSocket failed: {e.Message}");
        }
        finally
        {
            await _in.Writer.CompleteAsync(failure);
        }
    }

    private async Task SendAsync()
    {
        try
        {
            while (true)
            {
                ReadResult read = await _out.Reader.ReadAsync(_stop.Token);
                ReadOnlySequence<byte> buffer = read.Buffer;
                if (buffer.IsSingleSegment)
                {
                    await _socket.SendAsync(buffer.First, WebSocketMessageType.Binary, endOfMessage: true, _stop.Token);
                }
                else if (!buffer.IsEmpty)
                {
                    foreach (ReadOnlyMemory<byte> segment in buffer)
                    {
                        await _socket.SendAsync(segment, WebSocketMessageType.Binary, endOfMessage: false, _stop.Token);
                    }

                    await _socket.SendAsync(ReadOnlyMemory<byte>.Empty, WebSocketMessageType.Binary, endOfMessage: true, _stop.Token);
                }

                _out.Reader.AdvanceTo(buffer.End);
                if (read.IsCompleted || read.IsCanceled)
                {
                    break;
                }
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", _stop.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            Abort($"the WebSocket failed: {e.Message}");
        }
        finally
        {
            await _out.Reader.CompleteAsync();
        }
    }
}

/// <summary>
/// The address of a node that serves gossip over WebSocket (<c>ws://HOST:PORT/PATH</c> or <c>wss://…</c>), for
/// <see cref="TcpGossipClient.MaintainAsync(IGossipConnectionHandler, EndPoint, TcpGossipClientOptions, Microsoft.Extensions.Logging.ILogger?, TimeProvider?, CancellationToken)"/>
/// and <see cref="TcpGossipClient.ConnectAsync(EndPoint, CancellationToken)"/>, which dial it with a
/// <see cref="ClientWebSocket"/> instead of a socket (same backoff, timeouts and peer key).
/// </summary>
public sealed class WebSocketEndPoint : EndPoint
{
    /// <summary>The <c>ws://</c> or <c>wss://</c> address.</summary>
    /// <exception cref="ArgumentException">It is not an absolute ws:// or wss:// URI.</exception>
    public WebSocketEndPoint(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri || (uri.Scheme != "ws" && uri.Scheme != "wss"))
        {
            throw new ArgumentException($"A WebSocket address is ws://HOST:PORT/PATH or wss://…, not \"{uri}\".", nameof(uri));
        }

        Uri = uri;
    }

    /// <summary>The address.</summary>
    public Uri Uri { get; }

    /// <inheritdoc/>
    public override string ToString() => Uri.ToString();
}
