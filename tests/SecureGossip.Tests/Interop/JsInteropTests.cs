using System.Net;
using System.Text.Json;
using SecureGossip.Crypto;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Interop;

/// <summary>The .NET node and the real secure-gossip 0.3.1 package under node, over loopback TCP.</summary>
[Trait(TestCategory.Name, TestCategory.Interop)]
public sealed class JsInteropTests
{
    [Fact]
    public async Task A_dotnet_node_and_a_JS_node_exchange_messages_both_ways()
    {
        await using JsNode js = await JsNode.StartAsync("--listen", "0", "--interval", "20");
        await using GossipNode dotnet = Gossip.Node(TimeSpan.FromMilliseconds(20));
        var inbox = Gossip.Watch(dotnet);
        using var stop = new CancellationTokenSource();
        Task link = TcpGossipClient.MaintainAsync(dotnet, new IPEndPoint(IPAddress.Loopback, js.Port), cancellationToken: stop.Token);
        await js.WaitForStderrAsync("accepted ");

        dotnet.Publish(new { hello = "from .NET", n = 1.5e300, list = new object[] { 1, "two" } });
        var (from, data) = await js.ReceiveAsync();
        Assert.Equal(dotnet.Keys.Public, from);
        Assert.Equal("from .NET", data.GetProperty("hello").GetString());

        await js.PublishAsync("{\"hello\":\"from JS\",\"é\":\"\\u2028\",\"10\":1,\"2\":2}");
        GossipMessage message = (await inbox.WaitForAsync(1))[0];
        Assert.Equal(js.Public, message.Author);
        Assert.Equal("{\"2\":2,\"10\":1,\"hello\":\"from JS\",\"é\":\"\u2028\"}", message.ToString());

        await stop.CancelAsync();
        await link;
    }

    [Fact]
    public async Task In_a_JS_dotnet_JS_line_the_dotnet_node_relays_both_ways()
    {
        await using GossipNode relay = Gossip.Node(TimeSpan.FromMilliseconds(20));
        await using TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task serving = listener.ServeAsync(relay, cancellationToken: stop.Token);
        string target = $"127.0.0.1:{listener.LocalEndPoint.Port}";
        await using JsNode left = await JsNode.StartAsync("--connect", target, "--interval", "20");
        await using JsNode right = await JsNode.StartAsync("--connect", target, "--interval", "20");
        await left.WaitForStderrAsync("connected ");
        await right.WaitForStderrAsync("connected ");
        await relay.WaitForPeersAsync(p => p.Count == 2);
        var inbox = Gossip.Watch(relay);

        await left.PublishAsync("{\"from\":\"left\"}");
        var (author, data) = await right.ReceiveAsync();
        Assert.Equal(left.Public, author);
        Assert.Equal("left", data.GetProperty("from").GetString());

        await right.PublishAsync("{\"from\":\"right\"}");
        (author, data) = await left.ReceiveAsync();
        Assert.Equal(right.Public, author);
        Assert.Equal("right", data.GetProperty("from").GetString());

        relay.PublishJson("{\"from\":\"relay\"}");
        Assert.Equal(relay.Keys.Public, (await left.ReceiveAsync()).From);
        Assert.Equal(relay.Keys.Public, (await right.ReceiveAsync()).From);

        var seen = await inbox.WaitForAsync(2);
        Assert.Equal(new[] { left.Public, right.Public }.Order(), seen.Select(m => m.Author).Order());
        await stop.CancelAsync();
        await serving;
    }

    [Fact]
    public async Task A_JS_peer_drops_the_v2_hello_and_keeps_gossiping_both_ways()
    {
        await using JsNode js = await JsNode.StartAsync("--listen", "0", "--interval", "20");
        await using var dotnet = new GossipNode(new GossipNodeOptions { Interval = TimeSpan.FromMilliseconds(20), AnnounceV2 = true });
        var inbox = Gossip.Watch(dotnet);
        using var stop = new CancellationTokenSource();
        Task link = TcpGossipClient.MaintainAsync(dotnet, new IPEndPoint(IPAddress.Loopback, js.Port), cancellationToken: stop.Token);
        await js.WaitForStderrAsync("accepted ");

        dotnet.PublishJson("{\"after\":\"hello\"}");
        Assert.Equal("hello", (await js.ReceiveAsync()).Data.GetProperty("after").GetString());
        await js.PublishAsync("{\"from\":\"js\"}");
        Assert.Equal("{\"from\":\"js\"}", (await inbox.WaitForAsync(1))[0].ToString());

        Assert.Equal(1, Assert.Single(dotnet.Peers).Version); // the JS peer never answers with a hello
        Assert.DoesNotContain("error", js.StandardError, StringComparison.OrdinalIgnoreCase);
        await stop.CancelAsync();
        await link;
    }

    [Fact]
    public async Task A_JS_peer_accepts_a_message_whose_seq_is_signed_and_sees_the_sg_member()
    {
        await using JsNode js = await JsNode.StartAsync("--listen", "0", "--interval", "20");
        await using var dotnet = new GossipNode(new GossipNodeOptions { Interval = TimeSpan.FromMilliseconds(20), SignSequence = true });
        using var stop = new CancellationTokenSource();
        Task link = TcpGossipClient.MaintainAsync(dotnet, new IPEndPoint(IPAddress.Loopback, js.Port), cancellationToken: stop.Token);
        await js.WaitForStderrAsync("accepted ");

        dotnet.PublishJson("{\"b\":1,\"1\":[1e2],\"a\":\"x\"}");
        dotnet.PublishJson("{}");
        var (from, data) = await js.ReceiveAsync();
        Assert.Equal(dotnet.Keys.Public, from);
        Assert.Equal(0, data.GetProperty("$sg").GetProperty("seq").GetInt32());
        Assert.Equal("x", data.GetProperty("a").GetString());
        Assert.Equal(1, (await js.ReceiveAsync()).Data.GetProperty("$sg").GetProperty("seq").GetInt32());

        await stop.CancelAsync();
        await link;
    }

    [Fact]
    public async Task In_a_JS_v2_v2_JS_line_messages_cross_the_v2_link_both_ways_with_their_signatures_intact()
    {
        var options = () => new GossipNodeOptions { Interval = TimeSpan.FromMilliseconds(20), AnnounceV2 = true };
        await using var n1 = new GossipNode(options());
        await using var n2 = new GossipNode(options());
        await using TcpGossipListener l1 = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        await using TcpGossipListener l2 = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task[] running =
        [
            l1.ServeAsync(n1, cancellationToken: stop.Token),
            l2.ServeAsync(n2, cancellationToken: stop.Token),
            TcpGossipClient.MaintainAsync(n1, l2.LocalEndPoint, cancellationToken: stop.Token),
        ];
        await using JsNode j1 = await JsNode.StartAsync("--connect", $"127.0.0.1:{l1.LocalEndPoint.Port}", "--interval", "20");
        await using JsNode j2 = await JsNode.StartAsync("--connect", $"127.0.0.1:{l2.LocalEndPoint.Port}", "--interval", "20");
        await j1.WaitForStderrAsync("connected ");
        await j2.WaitForStderrAsync("connected ");
        await Task.WhenAll(
            n1.WaitForPeersAsync(p => p.Count(l => l.Version == 2) == 1 && p.Count(l => l.Version == 1) == 1),
            n2.WaitForPeersAsync(p => p.Count(l => l.Version == 2) == 1 && p.Count(l => l.Version == 1) == 1));
        var atN1 = Gossip.Watch(n1);
        var atN2 = Gossip.Watch(n2);

        await j1.PublishAsync("{\"from\":\"j1\"}");
        var (author, data) = await j2.ReceiveAsync();
        Assert.Equal((j1.Public, "j1"), (author, data.GetProperty("from").GetString()));

        await j2.PublishAsync("{\"from\":\"j2\"}");
        (author, data) = await j1.ReceiveAsync();
        Assert.Equal((j2.Public, "j2"), (author, data.GetProperty("from").GetString()));

        n1.PublishJson("{\"from\":\"n1\"}");
        Assert.Equal(n1.Keys.Public, (await j1.ReceiveAsync()).From);
        Assert.Equal(n1.Keys.Public, (await j2.ReceiveAsync()).From); // through n2, over the v2 link

        // Each .NET node delivered each JS message once, though the JS peers flood every copy back.
        Assert.Equal(new[] { j1.Public, j2.Public }.Order(), (await atN1.WaitForAsync(2)).Select(m => m.Author).Order());
        Assert.Equal(new[] { j1.Public, j2.Public, n1.Keys.Public }.Order(), (await atN2.WaitForAsync(3)).Select(m => m.Author).Order());
        await Task.WhenAll(n1.WhenIdleAsync(), n2.WhenIdleAsync());
        Assert.Equal(2, atN1.Messages.Count);
        Assert.Equal(3, atN2.Messages.Count);
        Assert.True(n2.Statistics.V2FramesReceived >= 3, "the n1-n2 link carries v2 frames");
        Assert.DoesNotContain("error", j1.StandardError + j2.StandardError, StringComparison.OrdinalIgnoreCase);
        await stop.CancelAsync();
        await Task.WhenAll(running);
    }

    [Fact]
    public async Task Two_v2_nodes_joined_only_through_a_JS_relay_gossip_over_v1_and_deliver_each_message_once()
    {
        await using JsNode relay = await JsNode.StartAsync("--listen", "0", "--interval", "20");
        var options = () => new GossipNodeOptions { Interval = TimeSpan.FromMilliseconds(20), AnnounceV2 = true };
        await using var left = new GossipNode(options());
        await using var right = new GossipNode(options());
        using var stop = new CancellationTokenSource();
        var target = new IPEndPoint(IPAddress.Loopback, relay.Port);
        Task[] running =
        [
            TcpGossipClient.MaintainAsync(left, target, cancellationToken: stop.Token),
            TcpGossipClient.MaintainAsync(right, target, cancellationToken: stop.Token),
        ];
        await Task.WhenAll(left.WaitForPeersAsync(p => p.Count == 1), right.WaitForPeersAsync(p => p.Count == 1));
        await relay.WaitForStderrAsync("accepted ");
        var atRight = Gossip.Watch(right);
        var atLeft = Gossip.Watch(left);

        left.PublishJson("{\"n\":1}");
        left.PublishJson("{\"n\":2}");
        await relay.PublishAsync("{\"from\":\"relay\"}");

        Assert.Equal(3, (await atRight.WaitForAsync(3)).Count);
        Assert.Equal(relay.Public, (await atLeft.WaitForAsync(1))[0].Author);
        await right.WhenIdleAsync();
        Assert.Equal(["{\"from\":\"relay\"}", "{\"n\":1}", "{\"n\":2}"], atRight.Messages.Select(m => m.ToString()).Order(StringComparer.Ordinal));
        Assert.All(left.Peers.Concat(right.Peers), p => Assert.Equal(1, p.Version));
        await stop.CancelAsync();
        await Task.WhenAll(running);
    }

    [Fact]
    public async Task A_JS_late_joiner_gets_the_retained_history_as_v1_lines_from_a_v2_node()
    {
        await using var node = new GossipNode(new GossipNodeOptions { Interval = TimeSpan.FromMilliseconds(20), AnnounceV2 = true });
        await using var peer = new GossipNode(new GossipNodeOptions { Interval = TimeSpan.FromMilliseconds(20), AnnounceV2 = true });
        var atPeer = Gossip.Watch(peer);
        Gossip.Link(node, peer);
        await Gossip.WaitForV2Async(node, peer);
        for (int n = 0; n < 3; n++)
        {
            node.PublishJson($"{{\"n\":{n}}}");
        }

        await atPeer.WaitForAsync(3);
        node.Gossip(); // a round runs: nothing is left waiting for a new neighbour, so what the JS peer gets is history
        Assert.Equal(0, await node.PendingLinesAsync());

        await using TcpGossipListener listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task serving = listener.ServeAsync(node, cancellationToken: stop.Token);
        await using JsNode js = await JsNode.StartAsync("--connect", $"127.0.0.1:{listener.LocalEndPoint.Port}", "--interval", "20");

        var received = new List<int>();
        for (int i = 0; i < 3; i++)
        {
            received.Add((await js.ReceiveAsync()).Data.GetProperty("n").GetInt32());
        }

        Assert.Equal([0, 1, 2], received); // in seq order, or the JS peer would have dropped the lower ones
        await stop.CancelAsync();
        await serving;
    }

    [Fact]
    public async Task A_key_file_written_by_dotnet_is_loaded_by_ssb_keys()
    {
        string directory = Directory.CreateTempSubdirectory("sgossip-interop-").FullName;
        string path = Path.Combine(directory, "secret");
        using GossipKeys keys = GossipKeys.LoadOrCreate(path);

        await using JsNode js = await JsNode.StartAsync("--keys", path, "--interval", "20");
        Assert.Equal(keys.Public, js.Public);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        Directory.Delete(directory, recursive: true);
    }
}
