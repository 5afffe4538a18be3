using System.Globalization;
using System.Text.Json;
using SecureGossip.Tests.TestSupport;
using static SecureGossip.Tests.Cli.SgossipCliTests;

namespace SecureGossip.Tests.Interop;

/// <summary>The default topic keeps secure-gossip 0.3.1 peers (issue #12, part 3): a node on topics still serves them there.</summary>
[Trait(TestCategory.Name, TestCategory.Interop)]
public sealed class TopicInteropTests
{
    [Fact]
    public async Task A_JS_peer_gossips_on_the_default_topic_of_a_node_that_runs_topics()
    {
        await using ChildProcess node = Sgossip("node", "--listen", "127.0.0.1:0", "--interval", "20", "--topic", "default", "--topic", "chat");
        int port = int.Parse(ListeningPattern().Match(await node.WaitForStderrAsync(l => ListeningPattern().IsMatch(l))).Groups[1].Value, CultureInfo.InvariantCulture);
        string nodeKey = PublicPattern().Match(await node.WaitForStderrAsync(l => PublicPattern().IsMatch(l))).Groups[1].Value;

        await using JsNode js = await JsNode.StartAsync("--connect", $"127.0.0.1:{port}", "--interval", "20");
        await js.WaitForStderrAsync("connected ");

        // The JS peer says nothing at first: after the router's silence wait it is the default topic's.
        await node.WriteLineAsync("{\"topic\":\"default\",\"data\":{\"to\":\"js\"}}");
        var (from, data) = await js.ReceiveAsync();
        Assert.Equal(nodeKey, from);
        Assert.Equal("{\"to\":\"js\"}", data.GetRawText()); // no $sg: the default topic's messages are plain 0.3.1 messages

        await js.PublishAsync("{\"from\":\"js\"}");
        using JsonDocument line = JsonDocument.Parse(await node.ReadLineAsync());
        Assert.Equal(js.Public, line.RootElement.GetProperty("from").GetString());
        Assert.Equal("{\"from\":\"js\"}", line.RootElement.GetProperty("data").GetRawText());
        Assert.Equal("default", line.RootElement.GetProperty("topic").GetString());

        // A line to chat does not reach the JS peer, which is not on it; the next default line does, and comes first.
        await node.WriteLineAsync("{\"topic\":\"chat\",\"data\":{\"private\":true}}");
        await node.WriteLineAsync("{\"topic\":\"default\",\"data\":{\"to\":\"js\",\"again\":true}}");
        (_, data) = await js.ReceiveAsync();
        Assert.Equal("{\"to\":\"js\",\"again\":true}", data.GetRawText());
        Assert.Equal(0, await node.TerminateAsync());
    }
}
