// Exports a node's SecureGossip metrics with OpenTelemetry (README, "Metrics"): two nodes linked in this process
// gossip a few messages, and the console exporter prints what the meter saw. Swap AddConsoleExporter for
// AddOtlpExporter (OpenTelemetry.Exporter.OpenTelemetryProtocol) or AddPrometheusHttpListener to send them on.
using OpenTelemetry;
using OpenTelemetry.Metrics;
using SecureGossip;

using MeterProvider metrics = Sdk.CreateMeterProviderBuilder()
    .AddMeter("SecureGossip")
    .AddConsoleExporter()
    .Build();

await using var alice = new GossipNode();
await using var bob = new GossipNode();
Stream toBob = alice.CreatePeerStream(), toAlice = bob.CreatePeerStream();
_ = toBob.CopyToAsync(toAlice);
_ = toAlice.CopyToAsync(toBob);

using GossipSubscription received = bob.Subscribe();
for (int i = 0; i < 5; i++)
{
    alice.Publish(new { text = "hello", i });
}

int count = 0;
await foreach (GossipMessage message in received.ReadAllAsync())
{
    if (++count == 5)
    {
        break;
    }
}

Console.WriteLine($"bob received {count} messages; the metrics follow");
metrics.ForceFlush();
