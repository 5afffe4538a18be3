using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Cli;

/// <summary>The sgossip command's scriptable contract, run as a real process.</summary>
[Trait(TestCategory.Name, TestCategory.Cli)]
public sealed partial class SgossipCliTests
{
    internal static ChildProcess Sgossip(params string[] arguments) =>
        ChildProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "sgossip.dll"), .. arguments]);

    [Fact]
    [Trait(TestCategory.Name, TestCategory.Interop)]
    public async Task Node_publishes_stdin_prints_received_lines_survives_EOF_and_exits_0_on_SIGTERM()
    {
        await using ChildProcess node = Sgossip("node", "--listen", "127.0.0.1:0", "--interval", "20");
        string listening = await node.WaitForStderrAsync(l => ListeningPattern().IsMatch(l));
        int port = int.Parse(ListeningPattern().Match(listening).Groups[1].Value, CultureInfo.InvariantCulture);
        string publicKey = PublicPattern().Match(await node.WaitForStderrAsync(l => PublicPattern().IsMatch(l))).Groups[1].Value;

        await using JsNode js = await JsNode.StartAsync("--connect", $"127.0.0.1:{port}", "--interval", "20");
        await js.WaitForStderrAsync("connected ");

        await node.WriteLineAsync("not json");
        await node.WriteLineAsync("[1,2,3]");
        await node.WriteLineAsync("{\"hello\":\"from sgossip\"}");
        await node.WaitForStderrAsync(l => l.StartsWith("error: stdin line 1:", StringComparison.Ordinal));
        await node.WaitForStderrAsync(l => l.StartsWith("error: stdin line 2: The payload must be a JSON object; it is an array.", StringComparison.Ordinal));
        var (from, data) = await js.ReceiveAsync();
        Assert.Equal(publicKey, from);
        Assert.Equal("from sgossip", data.GetProperty("hello").GetString());

        node.CloseInput(); // EOF on stdin does not stop the node
        await js.PublishAsync("{\"b\":1,\"a\":[1e2,\"x\"]}");
        string printed = await node.ReadLineAsync();
        Assert.Equal($"{{\"from\":\"{js.Public}\",\"seq\":0,\"data\":{{\"b\":1,\"a\":[100,\"x\"]}}}}", printed);

        Assert.Equal(0, await node.TerminateAsync());
    }

    [Fact]
    public async Task Node_runs_with_every_option_at_its_default()
    {
        await using ChildProcess node = Sgossip("node", "--listen", "127.0.0.1:0");
        await node.WaitForStderrAsync(l => ListeningPattern().IsMatch(l));
        Assert.Equal(0, await node.TerminateAsync());
        Assert.DoesNotContain("error", node.StandardError, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    [Trait(TestCategory.Name, TestCategory.Interop)]
    public async Task Node_connect_retries_until_the_peer_is_up()
    {
        int port = FreePort();
        await using ChildProcess node = Sgossip("node", "--connect", $"127.0.0.1:{port}", "--interval", "20", "--verbose");
        await node.WaitForStderrAsync(l => l.Contains("retrying", StringComparison.Ordinal));

        await using JsNode js = await JsNode.StartAsync("--listen", port.ToString(CultureInfo.InvariantCulture), "--interval", "20");
        await node.WaitForStderrAsync(l => l.Contains("Connected to", StringComparison.Ordinal));
        await js.WaitForStderrAsync("accepted ");
        await js.PublishAsync("{\"late\":true}");

        using JsonDocument line = JsonDocument.Parse(await node.ReadLineAsync());
        Assert.Equal(js.Public, line.RootElement.GetProperty("from").GetString());
        Assert.True(line.RootElement.GetProperty("data").GetProperty("late").GetBoolean());
        Assert.Equal(0, await node.TerminateAsync());
    }

    [Fact]
    public async Task Keygen_writes_a_secret_file_prints_the_id_and_never_overwrites()
    {
        string directory = Directory.CreateTempSubdirectory("sgossip-cli-").FullName;
        string path = Path.Combine(directory, "secret");
        try
        {
            await using ChildProcess first = Sgossip("keygen", "--keys", path);
            string id = await first.ReadLineAsync();
            Assert.Equal(0, await first.WaitForExitAsync());
            Assert.Matches("^[A-Za-z0-9+/]{43}=\\.ed25519$", id); // the spelling of "from" in node's output
            using (var keys = SecureGossip.Crypto.GossipKeys.Load(path))
            {
                Assert.Equal(id, keys.Public);
            }

            await using ChildProcess second = Sgossip("keygen", "--keys", path);
            Assert.Equal(1, await second.WaitForExitAsync());
            Assert.Contains("already exists", second.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Demo_shows_both_peers_receiving_the_message()
    {
        await using ChildProcess demo = Sgossip("demo");
        var lines = new List<string>();
        while (lines.Count < 5)
        {
            lines.Add(await demo.ReadLineAsync());
        }

        Assert.Equal(0, await demo.WaitForExitAsync());
        Assert.Single(lines, l => l.StartsWith("peer1 received {\"data\":\"hello warld\"}", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("peer2 received {\"data\":\"hello warld\"}", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("peer3 received", StringComparison.Ordinal));
    }

    [Fact]
    public async Task V2_nodes_with_a_store_serve_history_to_a_late_peer_and_continue_their_seq_after_a_restart()
    {
        DirectoryInfo directory = Directory.CreateTempSubdirectory("sgossip-store-");
        try
        {
            string keys = Path.Combine(directory.FullName, "a.keys"), store = Path.Combine(directory.FullName, "a.db");
            int port = FreePort();
            string[] arguments = ["node", "--listen", $"127.0.0.1:{port}", "--keys", keys, "--store", store];
            ChildProcess first = Sgossip(arguments);
            await first.WaitForStderrAsync(l => ListeningPattern().IsMatch(l));
            await first.WriteLineAsync("{\"n\":0}");
            await first.WriteLineAsync("{\"n\":1}");

            // A late peer gets both from the node's retained history (no round ever sends it to a v2 peer).
            await using ChildProcess late = Sgossip("node", "--connect", $"127.0.0.1:{port}");
            string[] history = [await late.ReadLineAsync(), await late.ReadLineAsync()];
            Assert.Equal(["{\"n\":0}", "{\"n\":1}"], history.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("data").GetRawText()).Order(StringComparer.Ordinal));
            Assert.Equal(0, await first.TerminateAsync());
            await first.DisposeAsync();

            // Restarted on its store: the seq goes on, and the peer (reconnecting by itself) is not sent the history again.
            await using ChildProcess second = Sgossip(arguments);
            await second.WaitForStderrAsync(l => ListeningPattern().IsMatch(l));
            await second.WriteLineAsync("{\"n\":2}");
            using JsonDocument next = JsonDocument.Parse(await late.ReadLineAsync());
            Assert.Equal("{\"n\":2}", next.RootElement.GetProperty("data").GetRawText());
            Assert.Equal(2, next.RootElement.GetProperty("seq").GetInt32());
            Assert.Equal(0, await second.TerminateAsync());
            Assert.Equal(0, await late.TerminateAsync());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("--interval", "0", "--interval must be a positive")]
    [InlineData("--connect", "nowhere", "is not HOST:PORT")]
    public async Task Node_rejects_bad_arguments_with_a_message(string option, string value, string expected)
    {
        await using ChildProcess node = Sgossip("node", option, value);
        Assert.NotEqual(0, await node.WaitForExitAsync());
        Assert.Contains(expected, node.StandardError, StringComparison.Ordinal);
        Assert.Null(await node.ReadLineOrEndAsync()); // nothing on stdout: it carries data only
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    [GeneratedRegex(@"Listening on 127\.0\.0\.1:(\d+)")]
    internal static partial Regex ListeningPattern();

    [GeneratedRegex(@"Public key (\S+)")]
    internal static partial Regex PublicPattern();
}
