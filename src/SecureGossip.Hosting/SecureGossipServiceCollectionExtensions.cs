using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace SecureGossip.Hosting;

/// <summary>Registers a SecureGossip node in a .NET host.</summary>
public static class SecureGossipServiceCollectionExtensions
{
    /// <summary>
    /// Registers the node (<see cref="GossipNode"/>, a singleton built from <see cref="SecureGossipHostOptions"/>,
    /// with the host's logger factory, meter factory and time provider), its store, and a hosted service that listens,
    /// dials and joins when the host starts and stops it all, the node last, when the host stops.
    /// </summary>
    public static IServiceCollection AddSecureGossip(this IServiceCollection services, Action<SecureGossipHostOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<SecureGossipHostOptions> options = services.AddOptions<SecureGossipHostOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SecureGossipHost>();
        services.TryAddSingleton(provider => provider.GetRequiredService<SecureGossipHost>().Node);
        services.AddHostedService(provider => provider.GetRequiredService<SecureGossipHost>());
        return services;
    }

    /// <summary>
    /// As <see cref="AddSecureGossip(IServiceCollection, Action{SecureGossipHostOptions}?)"/>, with the options bound from
    /// <paramref name="configuration"/> (for example <c>builder.Configuration.GetSection("SecureGossip")</c>: <c>Listen</c>,
    /// <c>Connect</c>, <c>Bootstrap</c>, <c>KeysPath</c>, <c>StorePath</c>, …), then <paramref name="configure"/>.
    /// </summary>
    public static IServiceCollection AddSecureGossip(this IServiceCollection services, IConfiguration configuration, Action<SecureGossipHostOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<SecureGossipHostOptions>().Bind(configuration);
        return services.AddSecureGossip(configure);
    }

    /// <summary>
    /// Adds the node's health check (<see cref="GossipHealthCheck"/>, named <c>securegossip</c>): Unhealthy once the
    /// node is stopped, Degraded with fewer links than <see cref="SecureGossipHostOptions.MinimumLinks"/> or a receive
    /// backlog near its capacity, Healthy otherwise; its data holds the links, v2 links, neighbours and backlog.
    /// </summary>
    public static IHealthChecksBuilder AddSecureGossip(this IHealthChecksBuilder builder, string name = "securegossip", IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddCheck<GossipHealthCheck>(name, failureStatus: HealthStatus.Unhealthy, tags: tags ?? []);
    }
}
