using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using SecureGossip.Hosting;
using SecureGossip.Tests.Diagnostics;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Hosting;

/// <summary><c>services.AddSecureGossip(...)</c> (issue #13, part 3): a node in a .NET generic host, configured from configuration.</summary>
public sealed class SecureGossipHostTests
{
    [Fact]
    public async Task Two_hosts_configured_from_configuration_gossip_over_TCP_and_report_health_and_metrics()
    {
        using IHost first = Build(new() { ["SecureGossip:Listen:0"] = "127.0.0.1:0", ["SecureGossip:Interval"] = "00:00:00.005" });
        await first.StartAsync();
        IPEndPoint listening = first.Services.GetRequiredService<SecureGossipHost>().ListenEndPoints.Single();
        Assert.NotEqual(0, listening.Port);

        using IHost second = Build(new() { ["SecureGossip:Connect:0"] = $"127.0.0.1:{listening.Port}", ["SecureGossip:Interval"] = "00:00:00.005" });
        IMeterFactory meters = second.Services.GetRequiredService<IMeterFactory>();
        using var accepted = new MetricCollector<long>(meters, "SecureGossip", "gossip.messages.accepted");
        await second.StartAsync();

        GossipNode a = first.Services.GetRequiredService<GossipNode>(), b = second.Services.GetRequiredService<GossipNode>();
        Assert.Same(a, first.Services.GetRequiredService<SecureGossipHost>().Node);
        await b.WaitForPeersAsync(p => p.Count == 1 && p[0].Version == 2);
        Gossip.Inbox inbox = Gossip.Watch(b);
        a.Publish(new { hosted = true });
        Assert.True((await inbox.WaitForAsync(1))[0].Payload.GetProperty("hosted").GetBoolean());

        // The host's meter factory is the node's: a collector on it sees the message.
        accepted.RecordObservableInstruments();
        Assert.Equal(1, accepted.GetMeasurementSnapshot().Sum(m => m.Value));

        HealthReport health = await second.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, health.Status);
        Assert.Equal(1, health.Entries["securegossip"].Data["v2_links"]);

        // The peer it must reach goes away: Degraded (cut off); the host stops: Unhealthy.
        await first.StopAsync();
        await b.WaitForPeersAsync(p => p.Count == 0);
        health = await second.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Contains("cut off", health.Entries["securegossip"].Description, StringComparison.Ordinal);

        await second.StopAsync();
        health = await second.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        Assert.Equal(HealthStatus.Unhealthy, health.Status);
    }

    [Fact]
    public void An_option_that_cannot_work_fails_the_host_with_a_message_that_names_it()
    {
        using IHost host = Build(new() { ["SecureGossip:Connect:0"] = "nowhere" });
        var error = Assert.Throws<InvalidOperationException>(() => host.Services.GetRequiredService<GossipNode>());
        Assert.Contains("SecureGossip:Connect/Bootstrap: 'nowhere' is not HOST:PORT", error.Message, StringComparison.Ordinal);

        using IHost badKey = Build(new() { ["SecureGossip:NetworkKey"] = "c2hvcnQ=" });
        Assert.Contains("NetworkKey is not the base64 of 32 bytes", Assert.Throws<InvalidOperationException>(() => badKey.Services.GetRequiredService<GossipNode>()).Message, StringComparison.Ordinal);
    }

    private static IHost Build(Dictionary<string, string?> settings)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSecureGossip(builder.Configuration.GetSection("SecureGossip"));
        builder.Services.AddHealthChecks().AddSecureGossip();
        return builder.Build();
    }
}

/// <summary>samples/HostedNode runs as the README says: two processes configured on the command line gossip, with health.</summary>
[Trait(TestCategory.Name, TestCategory.Cli)]
public sealed class HostedNodeSampleTests
{
    [Fact]
    public async Task Two_hosted_sample_processes_gossip_and_answer_for_their_health()
    {
        await using ChildProcess a = ChildProcess.Start("dotnet", [SampleTests.SamplePath("HostedNode"), "--SecureGossip:Listen:0=127.0.0.1:0"]);
        string started = await a.WaitForStderrAsync(l => l.Contains("listening on 127.0.0.1:", StringComparison.Ordinal));
        string port = System.Text.RegularExpressions.Regex.Match(started, @"listening on 127\.0\.0\.1:(\d+)").Groups[1].Value;

        await using ChildProcess b = ChildProcess.Start("dotnet", [SampleTests.SamplePath("HostedNode"), "--SecureGossip:Listen:0=127.0.0.1:0", $"--SecureGossip:Connect:0=127.0.0.1:{port}"]);
        await b.WaitForStderrAsync(l => l.Contains($"Connected to 127.0.0.1:{port}", StringComparison.Ordinal));
        await a.WriteLineAsync("{\"from\":\"the first host\"}");
        using (var line = System.Text.Json.JsonDocument.Parse(await b.ReadLineAsync()))
        {
            Assert.Equal("the first host", line.RootElement.GetProperty("data").GetProperty("from").GetString());
        }

        await b.WriteLineAsync("health");
        using (var line = System.Text.Json.JsonDocument.Parse(await b.ReadLineAsync()))
        {
            Assert.Equal("Healthy", line.RootElement.GetProperty("health").GetString());
        }

        Assert.Equal(0, await a.TerminateAsync());
        await b.WaitForStderrAsync(l => l.Contains("down", StringComparison.Ordinal));
        await b.WriteLineAsync("health");
        using (var line = System.Text.Json.JsonDocument.Parse(await b.ReadLineAsync()))
        {
            Assert.Equal("Degraded", line.RootElement.GetProperty("health").GetString());
        }

        Assert.Equal(0, await b.TerminateAsync());
    }
}
