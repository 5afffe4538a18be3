using System.Net;
using System.Net.Sockets;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Faults;

/// <summary>The fault-injecting proxy itself, over loopback: it must be exact before it can prove anything.</summary>
[Collection(FaultsCollection.Name)]
[Trait(TestCategory.Name, TestCategory.Faults)]
public sealed class FaultProxyTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task It_forwards_every_byte_both_ways_in_order_and_counts_them()
    {
        byte[] up = RandomBytes(1_000_000, 1), down = RandomBytes(700_000, 2);
        await using var server = Upstream.Start();
        await using var proxy = FaultProxy.Start(server.EndPoint);
        using Socket client = await ConnectAsync(proxy.EndPoint);
        Socket accepted = await server.AcceptAsync();

        Task send = SendAllAsync(client, up, shutdown: true);
        byte[] received = await ReceiveToEndAsync(accepted);
        await send;
        await SendAllAsync(accepted, down, shutdown: true);
        byte[] back = await ReceiveToEndAsync(client);

        Assert.Equal(up, received);
        Assert.Equal(down, back);
        ProxyConnection connection = Assert.Single(proxy.Connections);
        Assert.Equal(up.Length, connection.BytesForwarded(ProxyDirection.ToUpstream));
        Assert.Equal(down.Length, connection.BytesForwarded(ProxyDirection.ToClient));
        await connection.Closed.WaitAsync(Timeout); // both sides ended in order: the proxy closes too
        Assert.False(connection.WasReset);
        Assert.Empty(proxy.LiveConnections);
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(true, 40_000)]
    [InlineData(false, 12_345)]
    public async Task It_resets_both_sockets_at_the_chosen_byte(bool towardsUpstream, int resetAt)
    {
        ProxyDirection direction = towardsUpstream ? ProxyDirection.ToUpstream : ProxyDirection.ToClient;
        byte[] payload = RandomBytes(200_000, resetAt);
        await using var server = Upstream.Start();
        await using var proxy = FaultProxy.Start(server.EndPoint);
        using Socket client = await ConnectAsync(proxy.EndPoint);
        using Socket accepted = await server.AcceptAsync();
        ProxyConnection connection = await proxy.WaitForConnectionAsync(0, Timeout);
        connection.ResetAfter(direction, resetAt);
        (Socket writer, Socket reader, Socket other) = direction == ProxyDirection.ToUpstream ? (client, accepted, client) : (accepted, client, accepted);

        Task sending = SendAllAsync(writer, payload, shutdown: false);
        (byte[] received, SocketError end) = await ReceiveUntilErrorAsync(reader);
        await connection.Closed.WaitAsync(Timeout);

        Assert.True(connection.WasReset);
        Assert.Equal(resetAt, connection.BytesForwarded(direction));
        Assert.Equal(payload.AsSpan(0, resetAt).ToArray(), received); // exactly the chosen prefix, not a byte more
        Assert.Equal(SocketError.ConnectionReset, end);
        // The writer's side was reset too: its send fails or its next read does (Linux reports the RST once).
        Exception? sendError = await Record.ExceptionAsync(() => sending.WaitAsync(Timeout));
        (_, SocketError otherEnd) = await ReceiveUntilErrorAsync(other);
        Assert.True(sendError is SocketException || otherEnd == SocketError.ConnectionReset, $"send: {sendError?.Message ?? "completed"}, read: {otherEnd}");
    }

    [Fact]
    public async Task A_stall_holds_bytes_with_the_sockets_open_and_resume_delivers_them_in_order()
    {
        byte[] first = RandomBytes(5_000, 3), second = RandomBytes(300_000, 4);
        await using var server = Upstream.Start();
        await using var proxy = FaultProxy.Start(server.EndPoint);
        using Socket client = await ConnectAsync(proxy.EndPoint);
        using Socket accepted = await server.AcceptAsync();
        ProxyConnection connection = await proxy.WaitForConnectionAsync(0, Timeout);

        await SendAllAsync(client, first, shutdown: false);
        Assert.Equal(first, await ReceiveExactlyAsync(accepted, first.Length));
        connection.Stall(ProxyDirection.ToUpstream);
        Task sending = SendAllAsync(client, second, shutdown: false);

        // Held: nothing crosses while stalled (a bounded look, the only wait-for-absence here), the other way still flows.
        using (var look = new CancellationTokenSource(TimeSpan.FromMilliseconds(700)))
        {
            var buffer = new byte[1];
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await accepted.ReceiveAsync(buffer, SocketFlags.None, look.Token));
        }

        await SendAllAsync(accepted, [42], shutdown: false);
        Assert.Equal(new byte[] { 42 }, await ReceiveExactlyAsync(client, 1));
        Assert.Equal(first.Length, connection.BytesForwarded(ProxyDirection.ToUpstream));
        Assert.False(connection.IsClosed);

        connection.Resume(ProxyDirection.ToUpstream);
        Assert.Equal(second, await ReceiveExactlyAsync(accepted, second.Length));
        await sending.WaitAsync(Timeout);
        Assert.Equal(first.Length + second.Length, connection.BytesForwarded(ProxyDirection.ToUpstream));
    }

    [Fact]
    public async Task A_blackhole_swallows_bytes_silently_and_counts_them()
    {
        byte[] payload = RandomBytes(100_000, 5);
        await using var server = Upstream.Start();
        await using var proxy = FaultProxy.Start(server.EndPoint);
        using Socket client = await ConnectAsync(proxy.EndPoint);
        using Socket accepted = await server.AcceptAsync();
        ProxyConnection connection = await proxy.WaitForConnectionAsync(0, Timeout);
        connection.Blackhole(ProxyDirection.ToUpstream);

        await SendAllAsync(client, payload, shutdown: false); // never blocks: the proxy keeps reading
        await connection.WaitForDroppedAsync(ProxyDirection.ToUpstream, payload.Length, Timeout);
        Assert.Equal(payload.Length, connection.BytesDropped(ProxyDirection.ToUpstream));
        Assert.Equal(0, connection.BytesForwarded(ProxyDirection.ToUpstream));
        Assert.Equal(0, accepted.Available);
        Assert.False(connection.IsClosed);

        connection.Resume(ProxyDirection.ToUpstream);
        await SendAllAsync(client, [7, 8, 9], shutdown: false);
        Assert.Equal(new byte[] { 7, 8, 9 }, await ReceiveExactlyAsync(accepted, 3));
    }

    [Fact]
    public async Task A_delay_holds_each_chunk_and_reset_now_closes_the_live_connection()
    {
        await using var server = Upstream.Start();
        await using var proxy = FaultProxy.Start(server.EndPoint);
        proxy.Delay = TimeSpan.FromMilliseconds(300);
        using Socket client = await ConnectAsync(proxy.EndPoint);
        using Socket accepted = await server.AcceptAsync();
        ProxyConnection connection = await proxy.WaitForConnectionAsync(0, Timeout);

        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        await SendAllAsync(client, [1, 2, 3], shutdown: false);
        Assert.Equal(new byte[] { 1, 2, 3 }, await ReceiveExactlyAsync(accepted, 3));
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(290));

        Assert.Same(connection, Assert.Single(proxy.LiveConnections));
        connection.ResetNow();
        Assert.Empty(proxy.LiveConnections);
        (_, SocketError end) = await ReceiveUntilErrorAsync(client);
        Assert.Equal(SocketError.ConnectionReset, end);
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<Socket> ConnectAsync(IPEndPoint endPoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint).WaitAsync(Timeout);
        return socket;
    }

    private static async Task SendAllAsync(Socket socket, byte[] bytes, bool shutdown)
    {
        for (int sent = 0; sent < bytes.Length;)
        {
            sent += await socket.SendAsync(bytes.AsMemory(sent, Math.Min(8192, bytes.Length - sent)), SocketFlags.None);
        }

        if (shutdown)
        {
            socket.Shutdown(SocketShutdown.Send);
        }
    }

    private static async Task<byte[]> ReceiveToEndAsync(Socket socket)
    {
        var received = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        int read;
        while ((read = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).AsTask().WaitAsync(Timeout)) > 0)
        {
            received.Write(buffer, 0, read);
        }

        return received.ToArray();
    }

    private static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int length)
    {
        byte[] buffer = new byte[length];
        for (int read = 0; read < length;)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None).AsTask().WaitAsync(Timeout);
            Assert.True(n > 0, $"the stream ended after {read} of {length} bytes");
            read += n;
        }

        return buffer;
    }

    private static async Task<(byte[] Received, SocketError End)> ReceiveUntilErrorAsync(Socket socket)
    {
        var received = new MemoryStream();
        byte[] buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None).AsTask().WaitAsync(Timeout)) > 0)
            {
                received.Write(buffer, 0, read);
            }

            return (received.ToArray(), SocketError.Success);
        }
        catch (SocketException e)
        {
            return (received.ToArray(), e.SocketErrorCode);
        }
    }

    /// <summary>A plain loopback server socket standing in for a node.</summary>
    private sealed class Upstream : IAsyncDisposable
    {
        private readonly Socket _listener;
        private readonly List<Socket> _accepted = [];

        private Upstream(Socket listener) => _listener = listener;

        public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

        public static Upstream Start()
        {
            var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(4);
            return new Upstream(listener);
        }

        public async Task<Socket> AcceptAsync()
        {
            Socket socket = await _listener.AcceptAsync().WaitAsync(Timeout);
            _accepted.Add(socket);
            return socket;
        }

        public ValueTask DisposeAsync()
        {
            foreach (Socket socket in _accepted)
            {
                socket.Dispose();
            }

            _listener.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
