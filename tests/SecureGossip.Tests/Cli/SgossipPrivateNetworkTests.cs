using System.Text.Json;
using SecureGossip.Tests.TestSupport;
using static SecureGossip.Tests.Cli.SgossipCliTests;

namespace SecureGossip.Tests.Cli;

/// <summary><c>sgossip node --network-key</c>: a private network of real processes over loopback TCP.</summary>
[Trait(TestCategory.Name, TestCategory.Cli)]
public sealed class SgossipPrivateNetworkTests
{
    [Fact]
    public async Task Members_dialled_by_key_gossip_and_a_node_without_the_network_key_gets_nothing()
    {
        await using ChildProcess keygen = Sgossip("keygen", "--network-key");
        string networkKey = await keygen.ReadLineAsync();
        Assert.Equal(32, Convert.FromBase64String(networkKey).Length);

        await using ChildProcess a = Sgossip("node", "--listen", "127.0.0.1:0", "--network-key", networkKey);
        int port = int.Parse(ListeningPattern().Match(await a.WaitForStderrAsync(l => ListeningPattern().IsMatch(l))).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        string aKey = PublicPattern().Match(await a.WaitForStderrAsync(l => PublicPattern().IsMatch(l))).Groups[1].Value;
        await a.WaitForStderrAsync(l => l.Contains("Private network: secret handshake and box-stream on every link", StringComparison.Ordinal));

        // A plain node dials a: refused before the protocol, logged by a.
        await using ChildProcess outsider = Sgossip("node", "--connect", $"127.0.0.1:{port}");
        await a.WaitForStderrAsync(l => l.Contains("refused before the protocol", StringComparison.Ordinal));

        await using ChildProcess b = Sgossip("node", "--connect", $"@{aKey}@127.0.0.1:{port}", "--network-key", networkKey);
        await b.WaitForStderrAsync(l => l.Contains("up (protocol v2)", StringComparison.Ordinal));
        await a.WriteLineAsync("{\"secret\":1}");
        using JsonDocument received = JsonDocument.Parse(await b.ReadLineAsync());
        Assert.Equal("{\"secret\":1}", received.RootElement.GetProperty("data").GetRawText());
        Assert.Equal(aKey, received.RootElement.GetProperty("from").GetString());

        Assert.Equal(0, await outsider.TerminateAsync());
        Assert.Null(await outsider.ReadLineOrEndAsync()); // the plain node printed nothing: it never got the message
        Assert.Equal(0, await b.TerminateAsync());
        Assert.Equal(0, await a.TerminateAsync());
    }

    [Fact]
    public async Task Members_join_a_private_network_through_a_keyed_bootstrap_address_and_advertise_their_own_keys()
    {
        string networkKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await using ChildProcess a = Sgossip("node", "--listen", "127.0.0.1:0", "--bootstrap", "--network-key", networkKey);
        int port = int.Parse(ListeningPattern().Match(await a.WaitForStderrAsync(l => ListeningPattern().IsMatch(l))).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        string aKey = PublicPattern().Match(await a.WaitForStderrAsync(l => PublicPattern().IsMatch(l))).Groups[1].Value;
        await a.WaitForStderrAsync(l => l.Contains($"Membership: advertising @{aKey}@127.0.0.1:{port}", StringComparison.Ordinal));

        string bootstrap = $"@{aKey}@127.0.0.1:{port}";
        await using ChildProcess b = Sgossip("node", "--listen", "127.0.0.1:0", "--bootstrap", bootstrap, "--network-key", networkKey);
        await using ChildProcess c = Sgossip("node", "--listen", "127.0.0.1:0", "--bootstrap", bootstrap, "--network-key", networkKey);
        await b.WaitForStderrAsync(l => l.Contains($"Neighbour up: {bootstrap}", StringComparison.Ordinal));
        await c.WaitForStderrAsync(l => l.Contains($"Neighbour up: {bootstrap}", StringComparison.Ordinal));
        await a.WaitForStderrAsync(l => l.Contains("Neighbour up: @", StringComparison.Ordinal)); // members are named by their keys

        await c.WriteLineAsync("{\"members\":true}");
        foreach (ChildProcess other in new[] { a, b })
        {
            using JsonDocument received = JsonDocument.Parse(await other.ReadLineAsync());
            Assert.Equal("{\"members\":true}", received.RootElement.GetProperty("data").GetRawText());
        }

        Assert.Equal(0, await c.TerminateAsync());
        Assert.Equal(0, await b.TerminateAsync());
        Assert.Equal(0, await a.TerminateAsync());
    }

    [Fact]
    public async Task Members_gossip_over_websocket_addresses()
    {
        string networkKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await using ChildProcess a = Sgossip("node", "--listen", "ws://127.0.0.1:0/gossip", "--network-key", networkKey);
        string address = System.Text.RegularExpressions.Regex.Match(
            await a.WaitForStderrAsync(l => l.Contains("Listening on ws://", StringComparison.Ordinal)), @"ws://\S+").Value;
        string aKey = PublicPattern().Match(await a.WaitForStderrAsync(l => PublicPattern().IsMatch(l))).Groups[1].Value;

        await using ChildProcess b = Sgossip("node", "--connect", $"@{aKey}@{address}", "--network-key", networkKey);
        await b.WaitForStderrAsync(l => l.Contains("up (protocol v2)", StringComparison.Ordinal));
        await b.WriteLineAsync("{\"over\":\"websocket\"}");
        using JsonDocument atA = JsonDocument.Parse(await a.ReadLineAsync());
        Assert.Equal("{\"over\":\"websocket\"}", atA.RootElement.GetProperty("data").GetRawText());
        Assert.Equal(0, await b.TerminateAsync());
        Assert.Equal(0, await a.TerminateAsync());
    }

    [Fact]
    [Trait(TestCategory.Name, TestCategory.Interop)]
    public async Task With_plain_a_js_peer_joins_beside_the_secured_members_and_messages_cross_both_kinds_of_link()
    {
        string networkKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await using ChildProcess a = Sgossip("node", "--listen", "127.0.0.1:0", "--network-key", networkKey, "--plain", "--interval", "20");
        int port = int.Parse(ListeningPattern().Match(await a.WaitForStderrAsync(l => ListeningPattern().IsMatch(l))).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        string aKey = PublicPattern().Match(await a.WaitForStderrAsync(l => PublicPattern().IsMatch(l))).Groups[1].Value;

        await using JsNode js = await JsNode.StartAsync("--connect", $"127.0.0.1:{port}", "--interval", "20"); // secure-gossip 0.3.1: no handshake
        await js.WaitForStderrAsync("connected ");
        await using ChildProcess b = Sgossip("node", "--connect", $"@{aKey}@127.0.0.1:{port}", "--network-key", networkKey);
        await b.WaitForStderrAsync(l => l.Contains("up (protocol v2)", StringComparison.Ordinal));

        await js.PublishAsync("{\"from\":\"js\"}"); // over the plain link to a, then over box-stream to b
        using JsonDocument atB = JsonDocument.Parse(await b.ReadLineAsync());
        Assert.Equal(js.Public, atB.RootElement.GetProperty("from").GetString());

        await b.WriteLineAsync("{\"from\":\"b\"}"); // the other way
        var (from, data) = await js.ReceiveAsync();
        Assert.Equal("b", data.GetProperty("from").GetString());
        Assert.NotEqual(aKey, from);

        Assert.Equal(0, await b.TerminateAsync());
        Assert.Equal(0, await a.TerminateAsync());
    }

    [Fact]
    [Trait(TestCategory.Name, TestCategory.Interop)]
    public async Task A_js_peer_joins_over_a_websocket_and_messages_cross_both_ways()
    {
        await using ChildProcess node = Sgossip("node", "--listen", "ws://127.0.0.1:0/gossip", "--interval", "20");
        string address = System.Text.RegularExpressions.Regex.Match(
            await node.WaitForStderrAsync(l => l.Contains("Listening on ws://", StringComparison.Ordinal)), @"ws://\S+").Value;
        string nodeKey = PublicPattern().Match(await node.WaitForStderrAsync(l => PublicPattern().IsMatch(l))).Groups[1].Value;

        await using JsNode js = await JsNode.StartAsync("--connect-ws", address, "--interval", "20"); // secure-gossip 0.3.1 inside npm ws
        await js.WaitForStderrAsync("connected ");
        await js.PublishAsync("{\"from\":\"a browser-side peer\"}");
        using JsonDocument printed = JsonDocument.Parse(await node.ReadLineAsync());
        Assert.Equal(js.Public, printed.RootElement.GetProperty("from").GetString());

        await node.WriteLineAsync("{\"to\":\"js\"}");
        var (from, data) = await js.ReceiveAsync();
        Assert.Equal(nodeKey, from);
        Assert.Equal("js", data.GetProperty("to").GetString());
        Assert.Equal(0, await node.TerminateAsync());
    }

    [Theory]
    [InlineData("--connect", "127.0.0.1:7000", "on a private network a peer is dialled as @KEY.ed25519@HOST:PORT")]
    [InlineData("--network-key", "c2hvcnQ=", "is not the base64 of 32 bytes")]
    [InlineData("--allow", "@notakey.ed25519", "for a private network")]
    public async Task Private_network_options_are_checked_with_a_message(string option, string value, string expected)
    {
        string[] arguments = option == "--connect"
            ? ["node", option, value, "--network-key", Convert.ToBase64String(new byte[32])]
            : ["node", option, value];
        await using ChildProcess node = Sgossip(arguments);
        Assert.NotEqual(0, await node.WaitForExitAsync());
        Assert.Contains(expected, node.StandardError, StringComparison.Ordinal);
    }
}
