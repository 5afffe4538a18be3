using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SecureGossip.Crypto;
using SecureGossip.Storage;
using SecureGossip.Transports;

namespace SecureGossip.Hosting;

/// <summary>
/// The node of a host and what keeps it connected: built from <see cref="SecureGossipHostOptions"/> when first asked
/// for, its TCP listeners bound and its peers dialled when the host starts (<see cref="IHostedService"/>), and all of it
/// stopped when the host stops, the node last. Resolve <see cref="GossipNode"/> to publish and subscribe.
/// </summary>
public sealed partial class SecureGossipHost : IHostedService, IAsyncDisposable
{
    private readonly SecureGossipHostOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly GossipKeys _keys;
    private readonly List<TcpGossipListener> _listeners = [];
    private readonly List<Task> _running = [];
    private readonly CancellationTokenSource _stopping = new();
    private int _stopped;

    /// <summary>Builds the node (the host calls this).</summary>
    /// <exception cref="InvalidOperationException">An option cannot work (an address that is not HOST:PORT, a network key that is not 32 bytes); the message says which.</exception>
    public SecureGossipHost(IOptions<SecureGossipHostOptions> options, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        _options = options.Value;
        _loggerFactory = (ILoggerFactory?)services.GetService(typeof(ILoggerFactory)) ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger<SecureGossipHost>();
        TimeProvider time = (TimeProvider?)services.GetService(typeof(TimeProvider)) ?? TimeProvider.System;

        foreach (string address in _options.Listen)
        {
            if (!PeerAddress.TryParseEndPoint(address, out EndPoint? endPoint, out string? error) || endPoint is not IPEndPoint)
            {
                throw new InvalidOperationException($"SecureGossip:Listen: {error ?? $"'{address}' is not IP:PORT (a TCP listener binds an IP address)."}");
            }
        }

        foreach (string address in _options.Connect.Concat(_options.Bootstrap))
        {
            if (!PeerAddress.TryParse(address, out _, out string? error))
            {
                throw new InvalidOperationException($"SecureGossip:Connect/Bootstrap: {error}");
            }
        }

        _keys = _options.KeysPath is null ? GossipKeys.Generate() : GossipKeys.LoadOrCreate(_options.KeysPath);
        var nodeOptions = new GossipNodeOptions
        {
            Keys = _keys,
            Interval = _options.Interval,
            LoggerFactory = _loggerFactory,
            MeterFactory = (System.Diagnostics.Metrics.IMeterFactory?)services.GetService(typeof(System.Diagnostics.Metrics.IMeterFactory)),
            TimeProvider = time,
            Topic = _options.Topic is null ? GossipTopic.Default : GossipTopic.FromName(_options.Topic),
        };

        if (_options.NetworkKey is not null)
        {
            byte[] key = new byte[33];
            if (!Convert.TryFromBase64String(_options.NetworkKey, key, out int written) || written != 32)
            {
                throw new InvalidOperationException("SecureGossip:NetworkKey is not the base64 of 32 bytes (sgossip keygen --network-key makes one).");
            }

            nodeOptions.Links.Middleware.Add(SecretHandshakeMiddleware.Create(_keys, new PrivateNetworkOptions { NetworkKeys = [key[..32]] }));
        }

        // Listeners are bound now, before the node: with membership it advertises where it listens (port 0 included).
        foreach (string address in _options.Listen)
        {
            PeerAddress.TryParseEndPoint(address, out EndPoint? endPoint, out _);
            _listeners.Add(TcpGossipListener.Start((IPEndPoint)endPoint!));
        }

        if (_options.Membership || _options.Bootstrap.Count > 0)
        {
            string advertised = _options.Advertise ?? _listeners.FirstOrDefault()?.LocalEndPoint.ToString()
                ?? throw new InvalidOperationException("SecureGossip: membership needs a Listen address (or Advertise) so that other nodes can reach this one.");
            if (_options.NetworkKey is not null && !advertised.StartsWith('@'))
            {
                advertised = $"@{_keys.Public.TrimStart('@')}@{advertised}";
            }

            nodeOptions.Membership = new GossipMembershipOptions { AdvertisedAddress = advertised };
            foreach (string address in _options.Bootstrap)
            {
                nodeOptions.Membership.Bootstrap.Add(address);
            }
        }

        if (_options.StorePath is not null)
        {
            nodeOptions.Store = new SqliteGossipStore(_options.StorePath, time, _loggerFactory);
            nodeOptions.OwnsStore = true;
        }

        _options.ConfigureNode?.Invoke(nodeOptions);
        Node = new GossipNode(nodeOptions);
    }

    /// <summary>The node.</summary>
    public GossipNode Node { get; }

    /// <summary>The TCP addresses the node listens on (known once built, port 0 resolved).</summary>
    public IReadOnlyList<IPEndPoint> ListenEndPoints => [.. _listeners.Select(l => l.LocalEndPoint)];

    /// <summary>Whether the host stopped it.</summary>
    public bool IsStopped => Volatile.Read(ref _stopped) != 0 || ((IGossipConnectionHandler)Node).IsStopped;

    /// <inheritdoc/>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Log.Started(_logger, _keys.Public, string.Join(", ", ListenEndPoints), Node.Topic.Name);
        foreach (TcpGossipListener listener in _listeners)
        {
            _running.Add(listener.ServeAsync(Node, _logger, _stopping.Token));
        }

        foreach (string address in _options.Connect)
        {
            PeerAddress peer = PeerAddress.Parse(address);
            _running.Add(TcpGossipClient.MaintainAsync(Node, peer.EndPoint, new TcpGossipClientOptions { PeerKey = peer.Key }, _logger, cancellationToken: _stopping.Token));
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        foreach (TcpGossipListener listener in _listeners)
        {
            await listener.DisposeAsync();
        }

        await Node.DisposeAsync();
        await Task.WhenAll(_running).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Log.Stopped(_logger);
    }

    /// <summary>Stops it all if the host did not (a container disposing without stopping).</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _keys.Dispose();
        _stopping.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(501, LogLevel.Information, "SecureGossip node {Public} started; listening on {Listen}; topic {Topic}")]
        public static partial void Started(ILogger logger, string @public, string listen, string topic);

        [LoggerMessage(502, LogLevel.Information, "SecureGossip node stopped")]
        public static partial void Stopped(ILogger logger);
    }
}
