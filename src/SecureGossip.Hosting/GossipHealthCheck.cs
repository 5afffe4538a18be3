using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace SecureGossip.Hosting;

/// <summary>
/// The node's health: Unhealthy once it is stopped; Degraded when it has fewer links than it should (it is cut off)
/// or its receive backlog is near its capacity (it cannot verify as fast as peers send); Healthy otherwise.
/// </summary>
public sealed class GossipHealthCheck(SecureGossipHost host, IOptions<SecureGossipHostOptions> options) : IHealthCheck
{
    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        SecureGossipHostOptions settings = options.Value;
        if (host.IsStopped)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("the node is stopped"));
        }

        GossipNode node = host.Node;
        GossipNodeStatistics statistics = node.Statistics;
        int v2Links = node.Peers.Count(p => p.Version >= 2);
        var data = new Dictionary<string, object>
        {
            ["links"] = statistics.ConnectedPeers,
            ["v2_links"] = v2Links,
            ["neighbours"] = node.Neighbours.Count,
            ["receive_backlog"] = statistics.ReceiveBacklog,
            ["receive_capacity"] = statistics.ReceiveCapacity,
            ["messages_accepted"] = statistics.MessagesAccepted,
        };

        int minimum = settings.MinimumLinks ?? (settings.Connect.Count > 0 || settings.Bootstrap.Count > 0 ? 1 : 0);
        if (statistics.ConnectedPeers < minimum)
        {
            return Task.FromResult(HealthCheckResult.Degraded($"{statistics.ConnectedPeers} links, fewer than {minimum}: the node is cut off from its peers", data: data));
        }

        if (statistics.ReceiveCapacity > 0 && statistics.ReceiveBacklog >= settings.MaximumBacklogShare * statistics.ReceiveCapacity)
        {
            return Task.FromResult(HealthCheckResult.Degraded($"the receive backlog is {statistics.ReceiveBacklog} of {statistics.ReceiveCapacity}: peers send faster than the node verifies", data: data));
        }

        return Task.FromResult(HealthCheckResult.Healthy($"{statistics.ConnectedPeers} links ({v2Links} v2)", data));
    }
}
