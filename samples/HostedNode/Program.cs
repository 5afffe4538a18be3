// A SecureGossip node in a .NET generic host (README, "In a .NET host"): options from appsettings.json (override
// any of them on the command line, e.g. --SecureGossip:Listen:0=127.0.0.1:7101 --SecureGossip:Connect:0=127.0.0.1:7100),
// logs on stderr, health checks. Each stdin line is published (a JSON object), each received message is printed on
// stdout as {"from":…,"data":…}, and the line "health" prints the node's health check.
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SecureGossip;
using SecureGossip.Hosting;

HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace); // stdout is for messages
builder.Services.AddSecureGossip(builder.Configuration.GetSection("SecureGossip"));
builder.Services.AddHealthChecks().AddSecureGossip();
builder.Services.AddHostedService<ConsoleChat>();

using IHost host = builder.Build();
await host.RunAsync();

/// <summary>Publishes stdin lines, prints received messages and, on "health", the health report.</summary>
internal sealed class ConsoleChat(GossipNode node, HealthCheckService health) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        node.MessageReceived += (_, message) => Print(new { from = message.Author, data = message.Payload });

        // Stdin is read on a thread of its own: a console read cannot be cancelled, and must not hold the host's stop.
        _ = Task.Run(() => ReadStdinAsync(stoppingToken), CancellationToken.None);
        await Task.Delay(Timeout.InfiniteTimeSpan, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task ReadStdinAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested && await Console.In.ReadLineAsync(CancellationToken.None) is string line)
        {
            if (line == "health")
            {
                HealthReport report = await health.CheckHealthAsync(stoppingToken);
                Print(new { health = report.Status.ToString(), entries = report.Entries.ToDictionary(e => e.Key, e => e.Value.Description) });
            }
            else if (line.Length > 0)
            {
                try
                {
                    node.PublishJson(line);
                }
                catch (ArgumentException e)
                {
                    Console.Error.WriteLine($"not published: {e.Message}");
                }
            }
        }

        // stdin closed: the node goes on (stop it with Ctrl+C or SIGTERM).
    }

    private static readonly Lock s_out = new();

    private static void Print(object value)
    {
        string json = JsonSerializer.Serialize(value);
        lock (s_out)
        {
            Console.Out.WriteLine(json);
            Console.Out.Flush();
        }
    }
}
