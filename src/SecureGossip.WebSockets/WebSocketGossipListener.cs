using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SecureGossip.Transports;

/// <summary>
/// Accepts gossip links over WebSocket at <c>ws://HOST:PORT/PATH</c> (Kestrel): each WebSocket accepted at the path
/// becomes an inbound <see cref="WebSocketConnection"/> handed to the node, as <see cref="TcpGossipListener"/> does
/// with sockets (and through the same middleware: a private network's handshake runs inside the WebSocket). Other
/// paths and plain HTTP requests get 404 and 400.
/// </summary>
public sealed class WebSocketGossipListener : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebSocketGossipListener(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>The address peers dial (the real port when port 0 was asked for).</summary>
    public Uri Address { get; }

    /// <summary>Starts listening at <paramref name="address"/> (<c>ws://HOST:PORT/PATH</c>) for <paramref name="handler"/>.</summary>
    /// <exception cref="ArgumentException">It is not a ws:// address.</exception>
    /// <exception cref="IOException">The port cannot be bound (in use, or not allowed).</exception>
    public static async Task<WebSocketGossipListener> StartAsync(Uri address, IGossipConnectionHandler handler, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(handler);
        if (!address.IsAbsoluteUri || address.Scheme != "ws")
        {
            throw new ArgumentException($"A WebSocket listen address is ws://HOST:PORT/PATH, not \"{address}\" (wss is served behind a TLS-terminating proxy).", nameof(address));
        }

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders(); // the node logs its links; Kestrel's own chatter stays out of the operator's log
        if (loggerFactory is not null)
        {
            builder.Logging.AddProvider(new ForwardingProvider(loggerFactory));
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        }

        // The host must not take SIGINT/SIGTERM from the application that runs the node (sgossip stops cleanly itself).
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, NoSignalsLifetime>();

        builder.WebHost.UseUrls($"http://{address.Authority}");
        WebApplication app = builder.Build();
        var stopping = new CancellationTokenSource(); // ends every link when the listener stops (Kestrel would wait for them)
        app.Lifetime.ApplicationStopping.Register(stopping.Cancel);
        app.UseWebSockets();
        string path = address.AbsolutePath;
        app.Map(path, async (HttpContext context) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            var socket = await context.WebSockets.AcceptWebSocketAsync();
            EndPoint? remote = context.Connection.RemoteIpAddress is { } ip ? new IPEndPoint(ip, context.Connection.RemotePort) : null;
            using var link = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping.Token);
            await handler.RunConnectionAsync(new WebSocketConnection(socket, remote) { Direction = GossipConnectionDirection.Inbound }, link.Token);
        });
        await app.StartAsync(cancellationToken);
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var actual = new UriBuilder(bound) { Scheme = "ws", Path = path }.Uri;
        return new WebSocketGossipListener(app, actual);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>A host lifetime that waits for nothing and handles no signals.</summary>
    private sealed class NoSignalsLifetime : Microsoft.Extensions.Hosting.IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>Hands Kestrel's warnings to the application's logger factory.</summary>
    private sealed class ForwardingProvider(ILoggerFactory factory) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => factory.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }
}
