using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Diagnostics;

/// <summary>The <c>SecureGossip</c> meter (issue #13, part 1): what a node does, as metrics any .NET listener collects.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task A_node_reports_its_traffic_links_and_verification_times_on_the_meter_of_the_application()
    {
        using ServiceProvider services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        IMeterFactory factory = services.GetRequiredService<IMeterFactory>();
        using var accepted = new MetricCollector<long>(factory, "SecureGossip", "gossip.messages.accepted");
        using var delivered = new MetricCollector<long>(factory, "SecureGossip", "gossip.messages.delivered");
        using var received = new MetricCollector<long>(factory, "SecureGossip", "gossip.bytes.received");
        using var dropped = new MetricCollector<long>(factory, "SecureGossip", "gossip.messages.dropped");
        using var links = new MetricCollector<int>(factory, "SecureGossip", "gossip.links");
        using var verifyTime = new MetricCollector<double>(factory, "SecureGossip", "gossip.verify.duration");
        using var framesIn = new MetricCollector<long>(factory, "SecureGossip", "gossip.frames.received");
        using var framesOut = new MetricCollector<long>(factory, "SecureGossip", "gossip.frames.sent");

        await using GossipNode a = new(new GossipNodeOptions { Interval = Gossip.FastInterval, MeterFactory = factory });
        await using GossipNode b = new(new GossipNodeOptions { Interval = Gossip.FastInterval, MeterFactory = factory, Topic = GossipTopic.Default });
        Gossip.Link(a, b);
        await Gossip.WaitForV2Async(a, b);
        Gossip.Inbox inbox = Gossip.Watch(b);
        a.Publish(new { n = 1 });
        a.Publish(new { n = 2 });
        await inbox.WaitForAsync(2);
        await b.WhenIdleAsync();

        // A forged copy is dropped and counted under its reason.
        string line = Gossip.SignedLine(a, "{\"n\":3}").Replace("\"n\":3", "\"n\":4", StringComparison.Ordinal);
        Stream forger = b.CreatePeerStream();
        await forger.WriteAsync(System.Text.Encoding.UTF8.GetBytes(line + "\n"));
        await forger.FlushAsync();
        await b.WaitForStatisticsAsync(s => s.DroppedBadSignature + s.DroppedOld + s.DroppedMalformed >= 1);

        accepted.RecordObservableInstruments();
        delivered.RecordObservableInstruments();
        received.RecordObservableInstruments();
        dropped.RecordObservableInstruments();
        links.RecordObservableInstruments();
        framesIn.RecordObservableInstruments();
        framesOut.RecordObservableInstruments();

        // Both nodes report to the one meter, each measurement tagged with its topic; b accepted and delivered 2.
        Assert.Equal(b.Statistics.MessagesAccepted + a.Statistics.MessagesAccepted, accepted.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.True(accepted.GetMeasurementSnapshot().Sum(m => m.Value) >= 2);
        Assert.All(accepted.GetMeasurementSnapshot(), m => Assert.Equal("default", m.Tags["gossip.topic"]));
        Assert.True(delivered.GetMeasurementSnapshot().Sum(m => m.Value) >= 2);
        Assert.True(received.GetMeasurementSnapshot().Sum(m => m.Value) > 0);
        Assert.True(dropped.GetMeasurementSnapshot().Sum(m => m.Value) >= 1);

        // The link pair: one v2 link each way, by direction; the forger's link is a v1 link until it says hello.
        var byProtocol = links.GetMeasurementSnapshot().GroupBy(m => (string?)m.Tags["gossip.protocol"]).ToDictionary(g => g.Key!, g => g.Sum(m => m.Value));
        Assert.Equal(2, byProtocol["v2"]);
        Assert.Equal(1, byProtocol["v1"]);

        // Lines by type: hellos went out on all three links (a to b, b to a, b to the forger) and came in on two; b received a's messages as msg frames and the forgery as a v1 line.
        long Of(MetricCollector<long> c, string type) => c.GetMeasurementSnapshot().Where(m => (string?)m.Tags["gossip.frame.type"] == type).Sum(m => m.Value);
        Assert.Equal(3, Of(framesOut, "hello"));
        Assert.Equal(2, Of(framesIn, "hello"));
        Assert.True(Of(framesIn, "msg") >= 2);
        Assert.True(Of(framesOut, "msg") >= 2);
        Assert.Equal(1, Of(framesIn, "v1_line"));

        // Verification times are recorded, one per verification, in seconds.
        Assert.True(verifyTime.GetMeasurementSnapshot().Count >= 3);
        Assert.All(verifyTime.GetMeasurementSnapshot(), m => Assert.InRange(m.Value, 0, 1));

        // No measurement carries a peer's key or address: tags come from a small fixed set.
        string[] allowed = ["gossip.topic", "gossip.drop.reason", "gossip.protocol", "gossip.direction", "gossip.change", "gossip.frame.type"];
        Assert.All(
            accepted.GetMeasurementSnapshot().Concat(dropped.GetMeasurementSnapshot()).Concat(received.GetMeasurementSnapshot()).SelectMany(m => m.Tags.Keys)
                .Concat(links.GetMeasurementSnapshot().SelectMany(m => m.Tags.Keys)).Concat(framesIn.GetMeasurementSnapshot().SelectMany(m => m.Tags.Keys)),
            key => Assert.Contains(key, allowed));

        // The meter is the application's: created through its factory.
        Assert.Same(factory, accepted.Instrument!.Meter.Scope);
    }

    [Fact]
    public async Task A_disposed_node_no_longer_reports_and_a_node_without_a_factory_uses_the_library_meter()
    {
        using var accepted = new MetricCollector<long>(null, "SecureGossip", "gossip.messages.published");
        GossipNode node = new(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, Topic = GossipTopic.FromName("metrics-test-" + Guid.NewGuid()) });
        node.Publish(new { n = 1 });
        accepted.RecordObservableInstruments();
        Assert.Contains(accepted.GetMeasurementSnapshot(), m => (string?)m.Tags["gossip.topic"] == node.Topic.Name && m.Value == 1);
        Assert.Null(accepted.Instrument!.Meter.Scope);

        await node.DisposeAsync();
        accepted.Clear();
        accepted.RecordObservableInstruments();
        Assert.DoesNotContain(accepted.GetMeasurementSnapshot(), m => (string?)m.Tags["gossip.topic"] == node.Topic.Name);
    }
}
