using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SecureGossip.Crypto;
using SecureGossip.Protocol;
using SecureGossip.Storage;
using SecureGossip.Transports;

namespace SecureGossip.Cli;

/// <summary>
/// <c>sgossip node</c>: publishes every JSON object read from stdin, prints every received message to stdout as
/// one line <c>{"from":…,"seq":…,"data":…}</c>, logs to stderr only.
/// </summary>
internal static class NodeCommand
{
    public static Command Create()
    {
        var listen = new Option<string[]>("--listen") { Description = "Accept peers on HOST:PORT, or over WebSocket at ws://HOST:PORT/PATH (repeatable; port 0 picks a free port, logged on stderr).", Arity = ArgumentArity.ZeroOrMore };
        var connect = new Option<string[]>("--connect") { Description = "Keep a link to the peer at HOST:PORT or ws://HOST:PORT/PATH, reconnecting with backoff (repeatable). On a private network: @KEY.ed25519@HOST:PORT (or @KEY.ed25519@ws://…), the key the peer must prove.", Arity = ArgumentArity.ZeroOrMore };
        var networkKey = new Option<string[]>("--network-key") { Description = "Make this node a member of a private network: every link runs the secret handshake with this 32-byte key (base64; sgossip keygen --network-key makes one) and box-stream encryption. Repeatable: inbound links may use any, dialled ones use the first (key rotation).", Arity = ArgumentArity.ZeroOrMore };
        var allow = new Option<string[]>("--allow") { Description = "On a private network, accept inbound links only from these keys (@KEY.ed25519; repeatable).", Arity = ArgumentArity.ZeroOrMore };
        var plain = new Option<bool>("--plain") { Description = "On a private network, also accept plain links (JS 0.3.1 peers cannot speak the handshake): inbound peers that send JSON lines or stay silent for 2 s, and --connect HOST:PORT without a key. They are not authenticated." };
        var bootstrap = new Option<string[]>("--bootstrap")
        {
            Description = "Join a self-organising network (membership, docs/PROTOCOL.md §19) through any of these nodes: HOST:PORT, ws://HOST:PORT/PATH, @KEY.ed25519@HOST:PORT on a private network (repeatable, or several after one flag). With no address, this node is the first of its network. The node keeps a few neighbours (HyParView) and replaces a failed one at once; no full mesh to configure.",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = true,
        };
        var advertise = new Option<string?>("--advertise") { Description = "With --bootstrap: the HOST:PORT (or ws://HOST:PORT/PATH) other nodes reach this node at, when the --listen address is not it (0.0.0.0, a container, NAT). Default: the first TCP --listen address. A node never advertises 0.0.0.0." };
        var topic = new Option<string[]>("--topic")
        {
            Description = "Join this topic (repeatable): each topic is its own network (own neighbours, own messages, docs/PROTOCOL.md §20), all on this node's listeners. Received lines gain \"topic\":\"NAME\". With one topic, each stdin line is published to it; with several, a stdin line is {\"topic\":\"NAME\",\"data\":{...}}. \"default\" is the topic of nodes without --topic and of JS 0.3.1 peers. Without --topic: the default topic only, and lines as before.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var http = new Option<string?>("--http") { Description = "Serve a live status page at http://HOST:PORT/ (identity, links, rates, last messages, a form to publish), with /status (JSON), /events (server-sent events) and /metrics (Prometheus). Give a loopback address (127.0.0.1:PORT; port 0 picks one): the page can publish as this node, and shows its peers' addresses and the messages it receives." };
        var keys = new Option<string?>("--keys") { Description = "ssb-keys secret file; created if missing. Without it a fresh key is used." };
        var interval = new Option<int>("--interval") { Description = "Milliseconds between gossip rounds (the JS interval).", DefaultValueFactory = _ => 100 };
        var verbose = new Option<bool>("--verbose") { Description = "Log at Debug level (every dropped line) on stderr." };
        var byId = new Option<bool>("--dedup-by-id") { Description = "Accept each signed message once by its id, whatever its seq: replay-proof and order-free (a JS author's byte-identical repeats are delivered once)." };
        var signSeq = new Option<bool>("--sign-seq") { Description = "Sign each message's seq inside its payload as \"$sg\":{\"seq\":n} (JS peers accept it and see the member)." };
        var protocol = new Option<string>("--protocol")
        {
            Description = "v2 (default): protocol v2 (docs/PROTOCOL.md) with peers that say hello, v1 with the others (JS peers drop the hello); trees, acceptance by id, history for late joiners. v1: secure-gossip 0.3.1 exactly (compatibility mode).",
            DefaultValueFactory = _ => "v2",
        };
        protocol.AcceptOnlyFromAmong("v1", "v2");
        var announce = new Option<bool>("--announce-v2", "--v2") { Description = "Same as --protocol v2, the default (kept for scripts written when v2 was opt-in).", Hidden = true };
        var store = new Option<string?>("--store") { Description = "SQLite file (created if missing) that keeps this node's seq, the ids it has seen and the messages it retains across restarts: a message is printed only once its id is committed, so a crash prints nothing twice." };
        var storeSync = new Option<string>("--store-sync")
        {
            Description = "normal (default): a commit survives a crash of the process; full: it also survives power loss (an fsync per commit).",
            DefaultValueFactory = _ => "normal",
        };
        storeSync.AcceptOnlyFromAmong("normal", "full");
        var command = new Command("node", "Run a gossip node: stdin lines (JSON objects) are published, received messages are printed to stdout.")
        {
            listen, connect, networkKey, allow, plain, keys, interval, verbose, protocol, announce, byId, signSeq, store, storeSync,
            bootstrap, advertise, topic, http,
        };

        command.Validators.Add(result =>
        {
            // In a validator an option left out reads as 0, not its default: check only what was given.
            if (result.GetResult(interval) is { Implicit: false } && result.GetValue(interval) <= 0)
            {
                result.AddError("--interval must be a positive number of milliseconds.");
            }

            if (result.GetValue(announce) && result.GetValue(protocol) == "v1")
            {
                result.AddError("--v2 contradicts --protocol v1.");
            }

            foreach (string text in result.GetValue(listen) ?? [])
            {
                if (!EndPointParser.TryParse(text, out _, out string? error))
                {
                    result.AddError(error!);
                }
            }

            string[] networkKeys = result.GetValue(networkKey) ?? [];
            bool isPrivate = networkKeys.Length > 0;
            bool plainToo = result.GetValue(plain);
            foreach (string text in networkKeys)
            {
                if (ParseNetworkKey(text) is null)
                {
                    result.AddError($"--network-key {text} is not the base64 of 32 bytes (sgossip keygen --network-key makes one).");
                }
            }

            foreach (string text in result.GetValue(connect) ?? [])
            {
                if (!EndPointParser.TryParsePeer(text, out _, out byte[]? peerKey, out string? error))
                {
                    result.AddError(error!);
                }
                else if (peerKey is not null && !isPrivate)
                {
                    result.AddError($"--connect {text}: a peer key is for a private network; give --network-key.");
                }
                else if (peerKey is null && isPrivate && !plainToo)
                {
                    result.AddError($"--connect {text}: on a private network a peer is dialled as @KEY.ed25519@HOST:PORT (or add --plain for a JS 0.3.1 peer).");
                }
            }

            foreach (string text in result.GetValue(allow) ?? [])
            {
                try
                {
                    SecretHandshakeMiddleware.ParseKey(text);
                }
                catch (ArgumentException e)
                {
                    result.AddError($"--allow: {e.Message}");
                }
            }

            if (!isPrivate && ((result.GetValue(allow) ?? []).Length > 0 || plainToo))
            {
                result.AddError("--allow and --plain are for a private network: give --network-key.");
            }

            bool membership = result.GetResult(bootstrap) is not null || result.GetResult(advertise) is not null;
            foreach (string text in result.GetValue(bootstrap) ?? [])
            {
                if (!PeerAddress.TryParse(text, out _, out string? error))
                {
                    result.AddError($"--bootstrap: {error}");
                }
            }

            string? advertised = result.GetValue(advertise);
            if (advertised is not null)
            {
                if (!PeerAddress.TryParse(advertised, out PeerAddress? address, out string? error))
                {
                    result.AddError($"--advertise: {error}");
                }
                else if (!address!.IsDialable)
                {
                    result.AddError($"--advertise {advertised}: other nodes cannot dial an unspecified address or port 0; give the address they reach this node at.");
                }
            }
            else if (membership)
            {
                string? tcp = (result.GetValue(listen) ?? []).FirstOrDefault(l => EndPointParser.TryParse(l, out EndPoint? e, out _) && e is not WebSocketEndPoint);
                if (tcp is null)
                {
                    result.AddError("--bootstrap needs --listen HOST:PORT (or --advertise) so that other nodes can reach this one.");
                }
                else if (EndPointParser.TryParse(tcp, out EndPoint? e, out _) && e is IPEndPoint ip && (ip.Address.Equals(IPAddress.Any) || ip.Address.Equals(IPAddress.IPv6Any)))
                {
                    result.AddError($"--listen {tcp}: a node never advertises an unspecified address; give --advertise HOST:PORT, the address other nodes reach it at.");
                }
            }

            if (result.GetValue(http) is string page && !TryParseHttp(page, out _))
            {
                result.AddError($"--http {page} is not IP:PORT (e.g. 127.0.0.1:8080; port 0 picks a free one).");
            }

            var topics = new HashSet<GossipTopic>();
            foreach (string name in result.GetValue(topic) ?? [])
            {
                try
                {
                    if (!topics.Add(GossipTopic.FromName(name)))
                    {
                        result.AddError($"--topic {name} is given twice.");
                    }
                }
                catch (ArgumentException e)
                {
                    result.AddError($"--topic: {e.Message.Split(" (Parameter", 2)[0]}");
                }
            }

            if (topics.Any(t => !t.IsDefault) && result.GetValue(protocol) == "v1")
            {
                result.AddError("--topic other than default needs protocol v2 (topics are a v2 extension).");
            }

            if (membership && result.GetValue(protocol) == "v1")
            {
                result.AddError("--bootstrap and --advertise need protocol v2 (membership is a v2 extension).");
            }
        });

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            string[] networkKeys = parseResult.GetValue(networkKey) ?? [];
            PrivateNetworkOptions? privateNetwork = networkKeys.Length == 0 ? null : new PrivateNetworkOptions
            {
                NetworkKeys = [.. networkKeys.Select(k => ParseNetworkKey(k)!)],
                Allow = parseResult.GetValue(allow) is { Length: > 0 } allowed ? allowed : null,
                AllowPlain = parseResult.GetValue(plain),
            };
            return await RunAsync(
                parseResult.GetValue(listen) ?? [],
                parseResult.GetValue(connect) ?? [],
                privateNetwork,
                parseResult.GetValue(keys),
                TimeSpan.FromMilliseconds(parseResult.GetValue(interval)),
                parseResult.GetValue(verbose),
                parseResult.GetValue(protocol) == "v1" ? GossipProtocol.V1 : GossipProtocol.V2,
                parseResult.GetValue(byId),
                parseResult.GetValue(signSeq),
                parseResult.GetValue(store),
                parseResult.GetValue(storeSync) == "full",
                parseResult.GetResult(bootstrap) is not null || parseResult.GetResult(advertise) is not null ? new Membership(parseResult.GetValue(bootstrap) ?? [], parseResult.GetValue(advertise)) : null,
                [.. (parseResult.GetValue(topic) ?? []).Select(GossipTopic.FromName)],
                parseResult.GetValue(http),
                stop.Token);

            void Stop(PosixSignalContext context)
            {
                context.Cancel = true; // stop cleanly ourselves instead of being terminated
                stop.Cancel();
            }
        });
        return command;
    }

    /// <summary>The 32 bytes of a base64 network key, or null.</summary>
    private static byte[]? ParseNetworkKey(string text)
    {
        byte[] key = new byte[33];
        return Convert.TryFromBase64String(text, key, out int written) && written == 32 ? key[..32] : null;
    }

    /// <summary>What <c>--bootstrap</c> and <c>--advertise</c> asked for.</summary>
    private sealed record Membership(string[] Bootstrap, string? Advertise);

    private static async Task<int> RunAsync(string[] listen, string[] connect, PrivateNetworkOptions? privateNetwork, string? keysPath, TimeSpan interval, bool verbose, GossipProtocol protocol, bool deduplicateById, bool signSequence, string? storePath, bool storeFullSync, Membership? membership, GossipTopic[] topics, string? http, CancellationToken cancellationToken)
    {
        using ILoggerFactory loggerFactory = LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information);
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
            builder.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        });
        ILogger logger = loggerFactory.CreateLogger("sgossip");

        GossipKeys nodeKeys;
        try
        {
            nodeKeys = keysPath is null ? GossipKeys.Generate() : GossipKeys.LoadOrCreate(keysPath);
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: --keys {keysPath}: {e.Message}");
            return 1;
        }

        // Without --topic: one node on the default topic, as before. With it: a node per topic, one key, one router.
        bool withTopics = topics.Length > 0;
        GossipTopic[] joined = withTopics ? topics : [GossipTopic.Default];
        var stores = new List<SqliteGossipStore?>();
        try
        {
            foreach (GossipTopic topic in joined)
            {
                stores.Add(storePath is null ? null : new SqliteGossipStore(StorePathFor(storePath, topic), new SqliteGossipStoreOptions { FullSync = storeFullSync }, loggerFactory: loggerFactory));
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException)
        {
            Console.Error.WriteLine($"error: --store {StorePathFor(storePath!, joined[stores.Count])}: {e.Message}");
            foreach (SqliteGossipStore? opened in stores)
            {
                opened?.Dispose();
            }

            nodeKeys.Dispose();
            return 1;
        }

        using (nodeKeys)
        {
            // TCP listeners are bound before the nodes exist: with membership, a node advertises where it listens.
            var listeners = new List<TcpGossipListener>();
            try
            {
                foreach (string text in listen)
                {
                    EndPointParser.TryParse(text, out EndPoint? endPoint, out _);
                    if (endPoint is not WebSocketEndPoint)
                    {
                        listeners.Add(TcpGossipListener.Start(await EndPointParser.ResolveForListenAsync(endPoint!, cancellationToken)));
                    }
                }
            }
            catch (Exception e) when (e is ListenException or System.Net.Sockets.SocketException or InvalidOperationException or IOException)
            {
                Console.Error.WriteLine($"error: --listen: {(e is ListenException ? e.Message : $"cannot listen: {e.Message}")}");
                foreach (TcpGossipListener listener in listeners)
                {
                    await listener.DisposeAsync();
                }

                foreach (SqliteGossipStore? opened in stores)
                {
                    opened?.Dispose();
                }

                return 1;
            }

            string? advertised = null;
            if (membership is not null)
            {
                advertised = membership.Advertise ?? listeners[0].LocalEndPoint.ToString()!;
                if (privateNetwork is not null && !advertised.StartsWith('@'))
                {
                    advertised = $"@{nodeKeys.Public.TrimStart('@')}@{advertised}"; // on a private network peers dial a member by its key
                }
            }

            var output = new StdoutWriter();
            var nodes = new List<GossipNode>();
            for (int i = 0; i < joined.Length; i++)
            {
                var nodeOptions = new GossipNodeOptions
                {
                    Keys = nodeKeys,
                    Interval = interval,
                    LoggerFactory = loggerFactory,
                    Protocol = protocol,
                    DeduplicateById = deduplicateById,
                    SignSequence = signSequence,
                    Store = stores[i],
                    OwnsStore = true,
                    Topic = joined[i],
                };
                if (privateNetwork is not null)
                {
                    nodeOptions.Links.Middleware.Add(SecretHandshakeMiddleware.Create(nodeKeys, privateNetwork));
                }

                if (membership is not null)
                {
                    nodeOptions.Membership = new GossipMembershipOptions { AdvertisedAddress = advertised };
                    foreach (string address in membership.Bootstrap)
                    {
                        nodeOptions.Membership.Bootstrap.Add(address);
                    }
                }

                var node = new GossipNode(nodeOptions) { DeliverySink = new StdoutSink(output, withTopics ? joined[i].Name : null) };
                nodes.Add(node);
            }

            GossipTopicRouter? router = withTopics ? new GossipTopicRouter(new GossipTopicRouterOptions { LoggerFactory = loggerFactory }) : null;
            foreach (GossipNode node in nodes)
            {
                router?.Add(node);
            }

            IGossipConnectionHandler handler = router ?? (IGossipConnectionHandler)nodes[0];
            CliLog.PublicKey(logger, nodeKeys.Public);
            if (privateNetwork is not null)
            {
                CliLog.PrivateNetwork(
                    logger,
                    privateNetwork.NetworkKeys.Count,
                    privateNetwork.Allow is { } list ? $"{list.Count} allowed key(s)" : "any member",
                    privateNetwork.AllowPlain ? "accepted" : "refused");
            }

            if (withTopics)
            {
                CliLog.Topics(logger, string.Join(", ", joined.Select(t => t.ToString())));
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var tasks = new List<Task>();
            var webSockets = new List<WebSocketGossipListener>();
            foreach (TcpGossipListener listener in listeners)
            {
                CliLog.Listening(logger, listener.LocalEndPoint.ToString());
                tasks.Add(listener.ServeAsync(handler, logger, stop.Token));
            }

            if (membership is not null)
            {
                CliLog.Membership(logger, advertised!, membership.Bootstrap.Length == 0 ? "nobody (the first node)" : string.Join(", ", membership.Bootstrap));
            }

            int exitCode = 0;
            try
            {
                foreach (string text in listen)
                {
                    EndPointParser.TryParse(text, out EndPoint? endPoint, out _);
                    if (endPoint is WebSocketEndPoint webSocket)
                    {
                        WebSocketGossipListener served = await WebSocketGossipListener.StartAsync(webSocket.Uri, handler, loggerFactory, stop.Token);
                        webSockets.Add(served);
                        CliLog.Listening(logger, served.Address.ToString());
                    }
                }
            }
            catch (ListenException e)
            {
                Console.Error.WriteLine($"error: --listen: {e.Message}");
                exitCode = 1;
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or InvalidOperationException or IOException)
            {
                Console.Error.WriteLine($"error: --listen: cannot listen: {e.Message}");
                exitCode = 1;
            }

            Status.StatusServer? statusPage = null;
            if (exitCode == 0 && http is not null)
            {
                TryParseHttp(http, out IPEndPoint? pageEndPoint);
                try
                {
                    statusPage = await Status.StatusServer.StartAsync(pageEndPoint!, nodes, withTopics, loggerFactory, cancellationToken);
                    CliLog.StatusPage(logger, statusPage.Address.ToString());
                    if (!IPAddress.IsLoopback(pageEndPoint!.Address))
                    {
                        CliLog.StatusPageExposed(logger, statusPage.Address.ToString());
                    }
                }
                catch (IOException e)
                {
                    Console.Error.WriteLine($"error: --http {http}: cannot listen: {e.Message}");
                    exitCode = 1;
                }
            }

            if (exitCode == 0)
            {
                foreach (string text in connect)
                {
                    EndPointParser.TryParsePeer(text, out EndPoint? endPoint, out byte[]? peerKey, out _);
                    foreach (GossipNode node in nodes)
                    {
                        tasks.Add(TcpGossipClient.MaintainAsync(node, endPoint!, new TcpGossipClientOptions { PeerKey = peerKey }, logger, cancellationToken: stop.Token));
                    }
                }

                // Stdin is read on its own thread: Console streams block, and EOF must not stop the node.
                _ = Task.Run(() => PublishStdin(nodes), CancellationToken.None);

                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                }

                CliLog.Stopping(logger);
            }

            await stop.CancelAsync();
            if (statusPage is not null)
            {
                await statusPage.DisposeAsync();
            }

            foreach (TcpGossipListener listener in listeners)
            {
                await listener.DisposeAsync();
            }

            foreach (WebSocketGossipListener listener in webSockets)
            {
                await listener.DisposeAsync();
            }

            if (router is not null)
            {
                await router.DisposeAsync();
            }

            // A reader of stdout that stopped reading blocks the node's output; a stop must not wait for it forever.
            Task stopping = Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()).Append(Task.WhenAll(tasks)));
            if (await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromSeconds(10), CancellationToken.None)) != stopping)
            {
                CliLog.StopTooLong(logger);
            }

            return exitCode;
        }
    }

    /// <summary>The status page's address: IP:PORT, or localhost:PORT (the loopback address).</summary>
    private static bool TryParseHttp(string text, out IPEndPoint? endPoint)
    {
        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase) && int.TryParse(text.AsSpan("localhost:".Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int port) && port <= 65535)
        {
            endPoint = new IPEndPoint(IPAddress.Loopback, port);
            return true;
        }

        return IPEndPoint.TryParse(text, out endPoint) && text.Contains(':', StringComparison.Ordinal) && !text.EndsWith(']');
    }

    /// <summary>The store file of a topic: <c>--store PATH</c> itself for the default topic, <c>PATH.topic-&lt;first 16 hex digits of the id&gt;</c> for another.</summary>
    internal static string StorePathFor(string storePath, GossipTopic topic) => topic.IsDefault ? storePath : $"{storePath}.topic-{topic.Id![..16]}";

    /// <summary>
    /// Publishes each stdin line: to the one node's topic, or with several topics a line
    /// <c>{"topic":"NAME","data":{...}}</c> to the topic it names.
    /// </summary>
    private static void PublishStdin(List<GossipNode> nodes)
    {
        using var reader = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
        int number = 0;
        while (reader.ReadLine() is string line)
        {
            number++;
            try
            {
                if (nodes.Count == 1)
                {
                    nodes[0].PublishJson(line);
                    continue;
                }

                (string name, string data) = ReadTopicLine(line);
                GossipTopic topic = GossipTopic.FromName(name);
                GossipNode node = nodes.Find(n => n.Topic.Equals(topic))
                    ?? throw new ArgumentException($"this node has not joined the topic \"{name}\" (--topic {string.Join(" --topic ", nodes.Select(n => n.Topic.Name))})");
                node.PublishJson(data);
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"error: stdin line {number}: {e.Message.Split(" (Parameter", 2)[0]}");
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (Exception e)
            {
                // The store could not record it (disk full, I/O error): this line is not published; the next ones may be.
                Console.Error.WriteLine($"error: stdin line {number} was not published: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    /// <summary>Reads <c>{"topic":"NAME","data":{...}}</c>: the name and the payload's JSON text.</summary>
    /// <exception cref="ArgumentException">The line is not of that form; the message says what to write.</exception>
    private static (string Topic, string Data) ReadTopicLine(string line)
    {
        const string Form = "with several --topic, a stdin line is {\"topic\":\"NAME\",\"data\":{...}}";
        JsonElement root;
        try
        {
            using JsonDocument document = JsonDocument.Parse(line);
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{Form}; this one is not JSON ({e.Message.Split(" LineNumber:", 2)[0].TrimEnd('.')})");
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("topic", out JsonElement name) || name.ValueKind != JsonValueKind.String || !root.TryGetProperty("data", out JsonElement data))
        {
            throw new ArgumentException($"{Form}; this one has no \"topic\" string or no \"data\"");
        }

        return (name.GetString()!, data.GetRawText());
    }

    /// <summary>
    /// Prints received messages to stdout exactly once across crashes: each message is formatted when it is accepted
    /// and the lines of a batch are written in one system call once the store has committed their ids (without a
    /// store, at once). A kill -9 can only land before the commit (the peers send the messages again after the
    /// restart) or after the write (the ids are recorded); in between lie a few instructions.
    /// </summary>
    private sealed class StdoutSink(StdoutWriter output, string? topic) : IDeliverySink
    {
        private readonly MemoryStream _batch = new(64 * 1024);

        public void Prepare(GossipMessage message) => FormatLine(message, _batch, topic);

        public void Commit()
        {
            if (_batch.Length == 0)
            {
                return;
            }

            output.Write(_batch.GetBuffer().AsSpan(0, (int)_batch.Length));
            _batch.SetLength(0);
            if (_batch.Capacity > 1024 * 1024)
            {
                _batch.Capacity = 64 * 1024;
            }
        }
    }

    /// <summary>Stdout, shared by the topics' sinks: each batch of lines is written whole, in one system call.</summary>
    private sealed class StdoutWriter
    {
        private readonly Lock _lock = new();
        private readonly Stream _stdout = Console.OpenStandardOutput();
        private bool _broken;

        public void Write(ReadOnlySpan<byte> lines)
        {
            lock (_lock)
            {
                try
                {
                    if (!_broken)
                    {
                        _stdout.Write(lines);
                        _stdout.Flush();
                    }
                }
                catch (IOException)
                {
                    _broken = true; // stdout closed (a pipe reader went away): nothing left to print to
                }
            }
        }
    }

    /// <summary>
    /// Appends <c>{"from":"&lt;public&gt;","seq":n,"data":&lt;payload&gt;}</c> and a newline; with a
    /// <paramref name="topic"/> (the node runs --topic), <c>"topic":"&lt;name&gt;"</c> is the last member.
    /// </summary>
    internal static void FormatLine(GossipMessage message, Stream output, string? topic = null)
    {
        output.Write("{\"from\":\""u8);
        output.Write(JsonEncodedText.Encode(message.Author, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).EncodedUtf8Bytes);
        output.Write("\",\"seq\":"u8);
        Span<byte> number = stackalloc byte[EcmaNumber.MaxLength];
        output.Write(number[..EcmaNumber.Format(message.Sequence, number)]);
        output.Write(",\"data\":"u8);
        output.Write(message.PayloadUtf8.Span);
        if (topic is not null)
        {
            output.Write(",\"topic\":\""u8);
            output.Write(JsonEncodedText.Encode(topic, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).EncodedUtf8Bytes);
            output.Write("\""u8);
        }

        output.Write("}\n"u8);
    }
}

/// <summary>The node command's log lines (stderr), event ids 401-408 (README, "Log events").</summary>
internal static partial class CliLog
{
    [LoggerMessage(401, LogLevel.Information, "Public key {Public}")]
    public static partial void PublicKey(ILogger logger, string @public);

    [LoggerMessage(402, LogLevel.Information, "Private network: secret handshake and box-stream on every link ({Keys} network key(s); inbound from {Allowed}; plain links {Plain})")]
    public static partial void PrivateNetwork(ILogger logger, int keys, string allowed, string plain);

    [LoggerMessage(403, LogLevel.Information, "Topics: {Topics}")]
    public static partial void Topics(ILogger logger, string topics);

    [LoggerMessage(404, LogLevel.Information, "Listening on {EndPoint}")]
    public static partial void Listening(ILogger logger, string endPoint);

    [LoggerMessage(405, LogLevel.Information, "Membership: advertising {Address}, joining through {Bootstrap}")]
    public static partial void Membership(ILogger logger, string address, string bootstrap);

    [LoggerMessage(406, LogLevel.Information, "Stopping")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(407, LogLevel.Warning, "Stopping took more than 10 s (is stdout still read?); exiting without waiting for it")]
    public static partial void StopTooLong(ILogger logger);

    [LoggerMessage(408, LogLevel.Information, "Status page on {Address}")]
    public static partial void StatusPage(ILogger logger, string address);

    [LoggerMessage(409, LogLevel.Warning, "The status page at {Address} is reachable beyond this machine: whoever reaches it sees the node's peers and messages and can publish as the node")]
    public static partial void StatusPageExposed(ILogger logger, string address);
}
