using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using SecureGossip.Crypto;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Interop;

/// <summary>
/// Our secret handshake and box-stream against the npm <c>secret-handshake</c> (and its <c>pull-box-stream</c>) under
/// node, over real TCP on 127.0.0.1, in both roles (tests/interop/shs-peer.js).
/// </summary>
[Trait(TestCategory.Name, TestCategory.Interop)]
public sealed class SecretHandshakeInteropTests
{
    private static readonly byte[] s_networkKey = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public async Task A_dotnet_client_completes_the_handshake_with_the_npm_server_and_lines_cross_box_stream_both_ways()
    {
        using GossipKeys local = GossipKeys.Generate();
        byte[] jsSeed = RandomNumberGenerator.GetBytes(32);
        await using ChildProcess js = StartPeer("--role", "server", "--network-key", Convert.ToBase64String(s_networkKey), "--seed", Convert.ToBase64String(jsSeed));
        byte[] jsKey = Convert.FromBase64String((await js.WaitForStderrAsync(l => l.StartsWith("public ", StringComparison.Ordinal)))["public ".Length..]);
        int port = int.Parse((await js.WaitForStderrAsync(l => l.StartsWith("listening ", StringComparison.Ordinal)))["listening ".Length..], System.Globalization.CultureInfo.InvariantCulture);

        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        await using GossipConnection secured = await SecureAsync(new StreamConnection(new NetworkStream(socket, ownsSocket: true)) { Direction = GossipConnectionDirection.Outbound, PeerKey = jsKey }, local);

        Assert.Equal(jsKey, secured.PeerKey);
        Assert.Equal("remote " + Convert.ToBase64String(local.PublicKey), await js.WaitForStderrAsync(l => l.StartsWith("remote ", StringComparison.Ordinal)));
        await ExchangeAsync(secured);
    }

    [Fact]
    public async Task An_npm_client_completes_the_handshake_with_a_dotnet_server_and_lines_cross_box_stream_both_ways()
    {
        using GossipKeys local = GossipKeys.Generate();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        byte[] jsSeed = RandomNumberGenerator.GetBytes(32);
        await using ChildProcess js = StartPeer(
            "--role", "client", "--network-key", Convert.ToBase64String(s_networkKey), "--seed", Convert.ToBase64String(jsSeed),
            "--port", ((IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--server-key", Convert.ToBase64String(local.PublicKey));
        byte[] jsKey = Convert.FromBase64String((await js.WaitForStderrAsync(l => l.StartsWith("public ", StringComparison.Ordinal)))["public ".Length..]);

        Socket socket = await listener.AcceptSocketAsync().WaitAsync(Gossip.Timeout);
        await using GossipConnection secured = await SecureAsync(new StreamConnection(new NetworkStream(socket, ownsSocket: true)) { Direction = GossipConnectionDirection.Inbound }, local);

        Assert.Equal(jsKey, secured.PeerKey); // the client proved the key it holds
        Assert.Equal("remote " + Convert.ToBase64String(local.PublicKey), await js.WaitForStderrAsync(l => l.StartsWith("remote ", StringComparison.Ordinal)));
        await ExchangeAsync(secured);
    }

    private static ChildProcess StartPeer(params string[] arguments)
    {
        string directory = JsNode.InteropDirectory;
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "secret-handshake")))
        {
            throw new InvalidOperationException("The npm secret-handshake package is not installed: run `npm ci --prefix tests/interop` (needs node and npm).");
        }

        return ChildProcess.Start("node", [Path.Combine(directory, "shs-peer.js"), .. arguments], directory);
    }

    private static async Task<GossipConnection> SecureAsync(GossipConnection connection, GossipKeys local)
    {
        GossipConnectionMiddleware handshake = SecretHandshakeMiddleware.Create(local, new PrivateNetworkOptions { NetworkKeys = [s_networkKey] });
        using var timeout = new CancellationTokenSource(Gossip.Timeout);
        return await handshake(connection, timeout.Token);
    }

    /// <summary>The JS peer greets first, then echoes; a line longer than a box-stream chunk crosses in several boxes.</summary>
    private static async Task ExchangeAsync(GossipConnection secured)
    {
        Assert.Equal("hi from js", await ReadLineAsync(secured.Input));
        await secured.Output.WriteAsync(Encoding.UTF8.GetBytes("ping\n"));
        Assert.Equal("echo:ping", await ReadLineAsync(secured.Input));

        string big = new('x', 3 * BoxStream.MaxChunk + 123);
        await secured.Output.WriteAsync(Encoding.UTF8.GetBytes(big + "\n"));
        Assert.Equal("echo:" + big, await ReadLineAsync(secured.Input));
    }

    private static async Task<string> ReadLineAsync(PipeReader input)
    {
        using var timeout = new CancellationTokenSource(Gossip.Timeout);
        while (true)
        {
            ReadResult read = await input.ReadAsync(timeout.Token);
            ReadOnlySequence<byte> buffer = read.Buffer;
            if (buffer.PositionOf((byte)'\n') is SequencePosition end)
            {
                string line = Encoding.UTF8.GetString(buffer.Slice(0, end).ToArray());
                input.AdvanceTo(buffer.GetPosition(1, end));
                return line;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            Assert.False(read.IsCompleted, "the secured stream ended before a line");
        }
    }
}
