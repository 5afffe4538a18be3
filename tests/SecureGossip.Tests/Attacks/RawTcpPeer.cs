using System.Net;
using System.Net.Sockets;

namespace SecureGossip.Tests.Attacks;

/// <summary>
/// An attacker's raw TCP socket from a chosen loopback source address (the whole of 127.0.0.0/8 is loopback on Linux, so
/// each test can give attackers and honest peers different addresses). It reads and discards what the node sends,
/// noting when the node first speaks (a v2 node's hello: the connection was admitted) and when it closes the socket.
/// </summary>
internal sealed class RawTcpPeer : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Task _reading;
    private long _linesWritten;

    private RawTcpPeer(Socket socket)
    {
        _socket = socket;
        _reading = ReadAsync();
    }

    /// <summary>Set when the node's first bytes arrive: a v2 node writes its hello at once to a connection it admitted.</summary>
    public TaskCompletionSource Admitted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Set when the node closed the connection (end of stream or reset) or this side was disposed.</summary>
    public TaskCompletionSource Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Bytes the node sent this peer.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>How the connection ended, for diagnostics: "eof", a socket error, or null while open.</summary>
    public string? EndedBy { get; private set; }

    /// <summary>Lines handed to the socket by <see cref="FloodAsync"/>.</summary>
    public long LinesWritten => Interlocked.Read(ref _linesWritten);

    public static async Task<RawTcpPeer> ConnectAsync(IPEndPoint node, IPAddress source)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(source, 0));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await socket.ConnectAsync(node, timeout.Token);
            return new RawTcpPeer(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Writes <paramref name="bytes"/>; false when the node has closed the connection.</summary>
    public async Task<bool> TryWriteAsync(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            while (!bytes.IsEmpty)
            {
                int sent = await _socket.SendAsync(bytes, SocketFlags.None);
                bytes = bytes[sent..];
            }

            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Writes batch after batch (<paramref name="linesPerBatch"/> lines each) as fast as the socket takes them, until the
    /// node closes the connection or <paramref name="maxLines"/> were written. Returns the lines written.
    /// </summary>
    public async Task<long> FloodAsync(Func<long, byte[]> nextBatch, int linesPerBatch, long maxLines)
    {
        for (long batch = 0; !Closed.Task.IsCompleted && LinesWritten < maxLines; batch++)
        {
            if (!await TryWriteAsync(nextBatch(batch)))
            {
                break;
            }

            Interlocked.Add(ref _linesWritten, linesPerBatch);
        }

        return LinesWritten;
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        await _reading;
    }

    private async Task ReadAsync()
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int read = await _socket.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0)
                {
                    EndedBy = "eof";
                    break;
                }

                BytesReceived += read;
                Admitted.TrySetResult();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            EndedBy = e is SocketException socket ? socket.SocketErrorCode.ToString() : "disposed";
        }
        finally
        {
            Closed.TrySetResult();
        }
    }
}
