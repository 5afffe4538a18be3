using System.Text.Json;
using SecureGossip.Tests.TestSupport;
using static SecureGossip.Tests.Cli.SgossipCliTests;

namespace SecureGossip.Tests.Cli;

/// <summary><c>sgossip node --topic NAME</c> (issue #12, part 3): several topics on one process, each its own network.</summary>
[Trait(TestCategory.Name, TestCategory.Cli)]
public sealed class SgossipTopicTests
{
    [Fact]
    public async Task Nodes_on_several_topics_share_a_listener_and_each_line_reaches_only_its_topic()
    {
        await using ChildProcess a = Sgossip("node", "--listen", "127.0.0.1:0", "--bootstrap", "--topic", "chat", "--topic", "news");
        int port = int.Parse(ListeningPattern().Match(await a.WaitForStderrAsync(l => ListeningPattern().IsMatch(l))).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        await a.WaitForStderrAsync(l => l.Contains("Topics: chat (", StringComparison.Ordinal));
        string bootstrap = $"127.0.0.1:{port}";

        await using ChildProcess chat = Sgossip("node", "--listen", "127.0.0.1:0", "--bootstrap", bootstrap, "--topic", "chat");
        await using ChildProcess news = Sgossip("node", "--listen", "127.0.0.1:0", "--bootstrap", bootstrap, "--topic", "news");
        await chat.WaitForStderrAsync(l => l.Contains($"Neighbour up: {bootstrap} (topic chat)", StringComparison.Ordinal));
        await news.WaitForStderrAsync(l => l.Contains($"Neighbour up: {bootstrap} (topic news)", StringComparison.Ordinal));

        // With several topics a stdin line names its topic; a plain payload is refused with the form to use.
        await a.WriteLineAsync("{\"n\":0}");
        await a.WaitForStderrAsync(l => l.Contains("error: stdin line 1: with several --topic, a stdin line is {\"topic\":\"NAME\",\"data\":{...}}", StringComparison.Ordinal));
        await a.WriteLineAsync("{\"topic\":\"sports\",\"data\":{\"n\":0}}");
        await a.WaitForStderrAsync(l => l.Contains("error: stdin line 2: this node has not joined the topic \"sports\"", StringComparison.Ordinal));
        await a.WriteLineAsync("{\"topic\":\"news\",\"data\":{\"n\":2}}");
        await a.WriteLineAsync("{\"topic\":\"chat\",\"data\":{\"n\":1}}");

        using (JsonDocument line = JsonDocument.Parse(await chat.ReadLineAsync()))
        {
            Assert.Equal("{\"n\":1}", line.RootElement.GetProperty("data").GetRawText());
            Assert.Equal("chat", line.RootElement.GetProperty("topic").GetString());
        }

        using (JsonDocument line = JsonDocument.Parse(await news.ReadLineAsync()))
        {
            Assert.Equal("{\"n\":2}", line.RootElement.GetProperty("data").GetRawText());
            Assert.Equal("news", line.RootElement.GetProperty("topic").GetString());
        }

        // With one topic a stdin line is the payload, as without topics.
        await chat.WriteLineAsync("{\"n\":3}");
        using (JsonDocument line = JsonDocument.Parse(await a.ReadLineAsync()))
        {
            Assert.Equal("{\"n\":3}", line.RootElement.GetProperty("data").GetRawText());
            Assert.Equal("chat", line.RootElement.GetProperty("topic").GetString());
        }

        // Nothing crossed topics: each single-topic node printed its one line and nothing more.
        Assert.Equal(0, await chat.TerminateAsync());
        Assert.Equal(0, await news.TerminateAsync());
        Assert.Null(await chat.ReadLineOrEndAsync());
        Assert.Null(await news.ReadLineOrEndAsync());
        Assert.Equal(0, await a.TerminateAsync());
        Assert.Null(await a.ReadLineOrEndAsync());
    }

    [Theory]
    [InlineData("--topic chat --topic chat", "--topic chat is given twice.")]
    [InlineData("--topic chat --protocol v1", "--topic other than default needs protocol v2")]
    public async Task Topic_options_that_cannot_work_are_refused_with_a_message(string arguments, string expected)
    {
        await using ChildProcess node = Sgossip(["node", .. arguments.Split(' ')]);
        Assert.NotEqual(0, await node.WaitForExitAsync());
        Assert.Contains(expected, node.StandardError, StringComparison.Ordinal);
    }
}
