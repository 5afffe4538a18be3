using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SecureGossip.Cli.Status;

/// <summary>
/// <c>sgossip node --http HOST:PORT</c>: a live status page (README, "A live status page"). Serves the page and its
/// script (embedded; no CDN), <c>/status</c> (JSON), <c>/events</c> (server-sent events: a status every second and
/// each message as it arrives), <c>/metrics</c> (Prometheus text of the SecureGossip meter) and <c>POST /publish</c>.
/// </summary>
internal sealed partial class StatusServer : IAsyncDisposable
{
    private const int RecentMessages = 50;
    private const int RateSeconds = 120;

    private readonly WebApplication _app;
    private readonly IReadOnlyList<GossipNode> _nodes;
    private readonly bool _withTopics;
    private readonly ConcurrentQueue<MessageView> _recent = new();
    private readonly List<RateSample> _rates = [];
    private readonly Lock _clientsLock = new();
    private readonly List<Channel<string>> _clients = [];
    private readonly PrometheusText _metrics = new();
    private readonly ITimer _sampler;
    private Totals _last;

    private StatusServer(WebApplication app, IReadOnlyList<GossipNode> nodes, bool withTopics)
    {
        _app = app;
        _nodes = nodes;
        _withTopics = withTopics;
        _last = Totals.Of(nodes);
        foreach (GossipNode node in nodes)
        {
            string topic = node.Topic.Name;
            node.MessageReceived += (_, message) => OnMessage(topic, message);
        }

        _sampler = TimeProvider.System.CreateTimer(_ => Sample(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>Where the page is served.</summary>
    public Uri Address { get; private set; } = null!;

    public static async Task<StatusServer> StartAsync(IPEndPoint endPoint, IReadOnlyList<GossipNode> nodes, bool withTopics, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(endPoint));
        builder.Services.AddSingleton(loggerFactory);
        WebApplication app = builder.Build();
        var server = new StatusServer(app, nodes, withTopics);
        server.Map(app);
        await app.StartAsync(cancellationToken);
        string address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Address = new Uri(address);
        return server;
    }

    private void Map(WebApplication app)
    {
        app.MapGet("/", () => Embedded("index.html", "text/html; charset=utf-8"));
        app.MapGet("/app.js", () => Embedded("app.js", "text/javascript; charset=utf-8"));
        app.MapGet("/style.css", () => Embedded("style.css", "text/css; charset=utf-8"));
        app.MapGet("/status", () => Results.Text(StatusJson(), "application/json; charset=utf-8"));
        app.MapGet("/metrics", () => Results.Text(_metrics.Collect(), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapGet("/events", ServeEventsAsync);
        app.MapPost("/publish", (Func<HttpContext, Task<IResult>>)PublishAsync);
    }

    private static IResult Embedded(string name, string contentType)
    {
        Stream? stream = typeof(StatusServer).Assembly.GetManifestResourceStream($"SecureGossip.Cli.Status.wwwroot.{name}");
        return stream is null ? Results.NotFound() : Results.Stream(stream, contentType);
    }

    /// <summary>
    /// Publishes <c>{"topic":"NAME","data":{...}}</c> (topic optional with one topic). Only from the page itself: the
    /// request must carry the header <c>X-SecureGossip-Publish</c>, which a form or script of another site cannot send
    /// here without this server's consent (it gives none), so a web page the operator visits cannot publish as the node.
    /// </summary>
    private async Task<IResult> PublishAsync(HttpContext context)
    {
        if (!context.Request.Headers.ContainsKey("X-SecureGossip-Publish"))
        {
            return Results.Problem("publishing needs the X-SecureGossip-Publish header (the status page sends it)", statusCode: StatusCodes.Status403Forbidden);
        }

        JsonDocument body;
        try
        {
            body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException e)
        {
            return Results.Problem($"the body is not JSON: {e.Message}", statusCode: StatusCodes.Status400BadRequest);
        }

        using (body)
        {
            JsonElement root = body.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("data", out JsonElement data))
            {
                return Results.Problem("the body is {\"topic\":\"NAME\",\"data\":{...}}", statusCode: StatusCodes.Status400BadRequest);
            }

            string topic = root.TryGetProperty("topic", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : _nodes[0].Topic.Name;
            GossipNode? node = _nodes.FirstOrDefault(n => n.Topic.Name == topic);
            if (node is null)
            {
                return Results.Problem($"this node has not joined the topic \"{topic}\"", statusCode: StatusCodes.Status400BadRequest);
            }

            try
            {
                GossipMessage message = node.PublishJson(data.GetRawText());
                OnMessage(node.Topic.Name, message);
                return Results.Json(new { from = message.Author, seq = message.Sequence, topic = node.Topic.Name });
            }
            catch (ArgumentException e)
            {
                return Results.Problem(e.Message.Split(" (Parameter", 2)[0], statusCode: StatusCodes.Status400BadRequest);
            }
        }
    }

    private async Task ServeEventsAsync(HttpContext context)
    {
        context.Response.Headers.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        var channel = Channel.CreateBounded<string>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_clientsLock)
        {
            _clients.Add(channel);
        }

        try
        {
            await WriteEventAsync(context, "status", StatusJson());
            await foreach (string item in channel.Reader.ReadAllAsync(context.RequestAborted))
            {
                await context.Response.WriteAsync(item, context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException)
        {
            // the page went away
        }
        finally
        {
            lock (_clientsLock)
            {
                _clients.Remove(channel);
            }
        }
    }

    /// <summary>One server-sent event (the JSON is one line, so one data field).</summary>
    private static string Event(string name, string json) => $"event: {name}\ndata: {json}\n\n";

    private static async Task WriteEventAsync(HttpContext context, string name, string json)
    {
        await context.Response.WriteAsync(Event(name, json), context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private void Broadcast(string name, string json)
    {
        string item = Event(name, json);
        lock (_clientsLock)
        {
            foreach (Channel<string> client in _clients)
            {
                client.Writer.TryWrite(item);
            }
        }
    }

    private void OnMessage(string topic, GossipMessage message)
    {
        var view = new MessageView(topic, message.Author, message.Sequence, message.PayloadUtf8.Length <= 4096 ? Encoding.UTF8.GetString(message.PayloadUtf8.Span) : "{\"note\":\"(over 4 KiB, not shown)\"}", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        _recent.Enqueue(view);
        while (_recent.Count > RecentMessages && _recent.TryDequeue(out _))
        {
        }

        Broadcast("message", JsonSerializer.Serialize(view, StatusJsonContext.Default.MessageView));
    }

    private void Sample()
    {
        try
        {
            Totals now = Totals.Of(_nodes);
            var sample = new RateSample(
                DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                now.Accepted - _last.Accepted,
                now.Published - _last.Published,
                now.LinesSent - _last.LinesSent,
                now.BytesIn - _last.BytesIn,
                now.BytesOut - _last.BytesOut);
            _last = now;
            lock (_rates)
            {
                _rates.Add(sample);
                if (_rates.Count > RateSeconds)
                {
                    _rates.RemoveAt(0);
                }
            }

            Broadcast("status", StatusJson());
        }
        catch (ObjectDisposedException)
        {
            // a node stopped: the server is stopping too
        }
    }

    private string StatusJson()
    {
        RateSample[] rates;
        lock (_rates)
        {
            rates = [.. _rates];
        }

        var topics = _nodes.Select(n =>
        {
            GossipNodeStatistics s = n.Statistics;
            return new TopicView(
                n.Topic.Name,
                n.Topic.Id,
                [.. n.Peers.Select(p => new LinkView(p.ConnectionId, p.RemoteEndPoint?.ToString(), p.Version >= 2 ? "v2" : "v1"))],
                [.. n.Neighbours],
                new Dictionary<string, long>
                {
                    ["messages_accepted"] = s.MessagesAccepted,
                    ["messages_published"] = s.MessagesPublished,
                    ["messages_delivered"] = s.MessagesDelivered,
                    ["lines_received"] = s.LinesReceived,
                    ["lines_sent"] = s.LinesSent,
                    ["bytes_received"] = s.BytesReceived,
                    ["bytes_sent"] = s.BytesSent,
                    ["signatures_verified"] = s.SignaturesVerified,
                    ["dropped_bad_signature"] = s.DroppedBadSignature,
                    ["dropped_malformed"] = s.DroppedMalformed,
                    ["dropped_old"] = s.DroppedOld,
                    ["peers_cut"] = s.PeersCut,
                    ["receive_backlog"] = s.ReceiveBacklog,
                });
        }).ToList();
        var status = new StatusView(_nodes[0].Keys.Public, _withTopics, topics, rates, [.. _recent.Reverse()]);
        return JsonSerializer.Serialize(status, StatusJsonContext.Default.StatusView);
    }

    public async ValueTask DisposeAsync()
    {
        await _sampler.DisposeAsync();
        lock (_clientsLock)
        {
            foreach (Channel<string> client in _clients)
            {
                client.Writer.TryComplete();
            }
        }

        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        _metrics.Dispose();
    }

    private readonly record struct Totals(long Accepted, long Published, long LinesSent, long BytesIn, long BytesOut)
    {
        public static Totals Of(IReadOnlyList<GossipNode> nodes)
        {
            long accepted = 0, published = 0, sent = 0, bytesIn = 0, bytesOut = 0;
            foreach (GossipNode node in nodes)
            {
                GossipNodeStatistics s = node.Statistics;
                accepted += s.MessagesAccepted;
                published += s.MessagesPublished;
                sent += s.LinesSent;
                bytesIn += s.BytesReceived;
                bytesOut += s.BytesSent;
            }

            return new Totals(accepted, published, sent, bytesIn, bytesOut);
        }
    }

    /// <summary>The SecureGossip meter as Prometheus text: counters as <c>_total</c>, gauges as they are, histograms as sum and count.</summary>
    private sealed class PrometheusText : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Lock _lock = new();
        private readonly Dictionary<(string Name, string Labels), double> _values = [];
        private readonly Dictionary<string, (string Type, string? Description, string? Unit)> _instruments = [];

        public PrometheusText()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "SecureGossip")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
            _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
            _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
            _listener.Start();
        }

        public string Collect()
        {
            lock (_lock)
            {
                foreach (var key in _values.Keys.Where(k => _instruments[k.Name].Type != "histogram").ToList())
                {
                    _values.Remove(key); // observed afresh below
                }

                _listener.RecordObservableInstruments();
                var text = new StringBuilder();
                foreach (var group in _values.GroupBy(v => v.Key.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
                {
                    (string type, string? description, string? unit) = _instruments[group.Key];
                    string name = MetricName(group.Key, unit, type);
                    text.Append("# HELP ").Append(name).Append(' ').Append(description).Append('\n');
                    text.Append("# TYPE ").Append(name).Append(' ').Append(type == "histogram" ? "summary" : type).Append('\n');
                    foreach (var value in group.OrderBy(v => v.Key.Labels, StringComparer.Ordinal))
                    {
                        string suffix = type == "histogram" ? (value.Key.Labels.StartsWith("count", StringComparison.Ordinal) ? "_count" : "_sum") : string.Empty;
                        string labels = type == "histogram" ? value.Key.Labels[(value.Key.Labels.IndexOf('|') + 1)..] : value.Key.Labels;
                        text.Append(name).Append(suffix).Append(labels.Length > 0 ? "{" + labels + "}" : string.Empty).Append(' ')
                            .Append(value.Value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
                    }
                }

                return text.ToString();
            }
        }

        private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string labels = string.Join(",", tags.ToArray().OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key.Replace('.', '_')}=\"{Escape(t.Value?.ToString())}\""));
            string type = instrument switch
            {
                Histogram<double> => "histogram",
                ObservableCounter<long> or ObservableCounter<int> or Counter<long> => "counter",
                _ => "gauge",
            };
            lock (_lock)
            {
                _instruments[instrument.Name] = (type, instrument.Description, instrument.Unit);
                if (type == "histogram")
                {
                    _values[(instrument.Name, "count|" + labels)] = _values.GetValueOrDefault((instrument.Name, "count|" + labels)) + 1;
                    _values[(instrument.Name, "sum|" + labels)] = _values.GetValueOrDefault((instrument.Name, "sum|" + labels)) + value;
                }
                else
                {
                    _values[(instrument.Name, labels)] = _values.GetValueOrDefault((instrument.Name, labels)) + value; // summed over the nodes of one topic
                }
            }
        }

        private static string MetricName(string name, string? unit, string type)
        {
            string metric = name.Replace('.', '_');
            metric += unit switch
            {
                "By" => "_bytes",
                "s" => "_seconds",
                _ => string.Empty,
            };
            return type == "counter" ? metric + "_total" : metric;
        }

        private static string Escape(string? value) => (value ?? string.Empty).Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

        public void Dispose() => _listener.Dispose();
    }
}

internal sealed record MessageView(string Topic, string From, double Seq, string Data, long At);

internal sealed record LinkView(string Id, string? Remote, string Protocol);

internal sealed record TopicView(string Name, string? Id, IReadOnlyList<LinkView> Links, IReadOnlyList<string> Neighbours, Dictionary<string, long> Counters);

internal sealed record RateSample(long At, long Accepted, long Published, long LinesSent, long BytesIn, long BytesOut);

internal sealed record StatusView(string Public, bool Topics, IReadOnlyList<TopicView> TopicViews, IReadOnlyList<RateSample> Rates, IReadOnlyList<MessageView> Messages);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(StatusView))]
[System.Text.Json.Serialization.JsonSerializable(typeof(MessageView))]
internal sealed partial class StatusJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
