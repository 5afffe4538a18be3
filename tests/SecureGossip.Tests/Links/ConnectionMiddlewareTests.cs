using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Links;

/// <summary>
/// The seam a handshake plugs into (GossipLinkOptions.Middleware): every connection passes through it before the
/// protocol sees it; it may exchange bytes of its own, wrap the connection, or refuse it.
/// </summary>
public sealed class ConnectionMiddlewareTests
{
    private static readonly byte[] Greeting = "sg-test-handshake 1\n"u8.ToArray();

    [Fact]
    public async Task A_pre_protocol_exchange_runs_before_the_hello_and_messages_flow_after_it()
    {
        var seen = new List<string>();
        await using GossipNode a = Node(Handshake(seen));
        await using GossipNode b = Node(Handshake(seen));
        var atB = Gossip.Watch(b);
        Gossip.Link(a, b);
        await a.WaitForPeersAsync(p => p is [{ Version: 2 }]); // the hello came after the handshake, on the same connection
        await b.WaitForPeersAsync(p => p is [{ Version: 2 }]);
        await Gossip.WaitForV2Async(a, b);

        a.PublishJson("{\"n\":1}");
        Assert.Equal("{\"n\":1}", (await atB.WaitForAsync(1))[0].ToString());
        Assert.Equal(["sg-test-handshake 1", "sg-test-handshake 1"], seen);
    }

    [Fact]
    public async Task A_connection_a_step_refuses_never_becomes_a_link_and_the_reason_is_logged()
    {
        using var log = new LogCapture();
        await using GossipNode guarded = Node(Handshake([]), log);
        await using GossipNode stranger = Gossip.Node(); // speaks the protocol at once: its hello is not the greeting
        var atStranger = Gossip.Watch(stranger);
        (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
        Task guardedSide = guarded.RunConnectionAsync(left);
        _ = stranger.RunConnectionAsync(right);

        await guardedSide.WaitAsync(Gossip.Timeout); // refused: the link ends without ever coming up
        Assert.Empty(guarded.Peers);
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("refused before the protocol", StringComparison.Ordinal) && e.Message.Contains("not the greeting", StringComparison.Ordinal));
        guarded.PublishJson("{\"secret\":1}");
        await guarded.WhenIdleAsync();
        Assert.Empty(atStranger.Messages);
    }

    [Fact]
    public async Task A_step_that_wraps_the_connection_carries_the_protocol_over_its_own_bytes()
    {
        await using GossipNode a = Node(Scramble);
        await using GossipNode b = Node(Scramble);
        var atB = Gossip.Watch(b);
        Gossip.Link(a, b);
        await a.WaitForPeersAsync(p => p is [{ Version: 2 }]); // the link is up only after the steps
        await b.WaitForPeersAsync(p => p is [{ Version: 2 }]);
        await Gossip.WaitForV2Async(a, b);
        a.PublishJson("{\"n\":2}");
        Assert.Equal("{\"n\":2}", (await atB.WaitForAsync(1))[0].ToString());

        // One side scrambling and the other not: neither understands the other, and nothing crosses.
        await using GossipNode plain = Gossip.Node();
        var atPlain = Gossip.Watch(plain);
        Gossip.Link(a, plain);
        a.PublishJson("{\"n\":3}");
        await atB.WaitForAsync(2);
        await plain.WhenIdleAsync();
        Assert.Empty(atPlain.Messages);
        Assert.All(plain.Peers, p => Assert.Equal(1, p.Version)); // it never read a's hello either
        Assert.Equal(0, plain.Statistics.MessagesAccepted);
    }

    [Fact]
    public async Task A_handshake_that_never_finishes_is_cut_at_the_handshake_timeout()
    {
        var clock = new FakeTimeProvider();
        using var log = new LogCapture();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new GossipNodeOptions { TimeProvider = clock, LoggerFactory = log, Links = { HandshakeTimeout = TimeSpan.FromSeconds(10) } };
        options.Links.Middleware.Add(async (connection, token) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, token);
            return connection;
        });
        await using var node = new GossipNode(options);
        (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
        Task run = node.RunConnectionAsync(left);
        await started.Task.WaitAsync(Gossip.Timeout);

        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.False(run.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));
        await run.WaitAsync(Gossip.Timeout);
        Assert.Contains(log.Entries, e => e.Message.Contains("handshake took longer than 10 s", StringComparison.Ordinal));
        await right.DisposeAsync();
    }

    private static GossipNode Node(GossipConnectionMiddleware step, ILoggerFactory? logging = null)
    {
        var options = new GossipNodeOptions { LoggerFactory = logging };
        options.Links.Middleware.Add(step);
        return new GossipNode(options);
    }

    /// <summary>Each side writes the greeting and reads the other's before the protocol starts.</summary>
    private static GossipConnectionMiddleware Handshake(List<string> seen) => async (connection, token) =>
    {
        await connection.Output.WriteAsync(Greeting, token);
        while (true)
        {
            ReadResult read = await connection.Input.ReadAsync(token);
            var buffer = read.Buffer;
            if (buffer.PositionOf((byte)'\n') is SequencePosition end)
            {
                string line = Encoding.UTF8.GetString(buffer.Slice(0, end));
                connection.Input.AdvanceTo(buffer.GetPosition(1, end));
                if (line + "\n" != Encoding.UTF8.GetString(Greeting))
                {
                    throw new InvalidOperationException($"the peer's first line is not the greeting ({line.Length} bytes)");
                }

                lock (seen)
                {
                    seen.Add(line);
                }

                return connection;
            }

            connection.Input.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                throw new InvalidOperationException("the peer closed before the greeting");
            }
        }
    };

    private static ValueTask<GossipConnection> Scramble(GossipConnection connection, CancellationToken token) =>
        ValueTask.FromResult<GossipConnection>(new ScrambledConnection(connection));

    /// <summary>A stand-in for an encrypted channel: every byte XORed both ways, over the wrapped connection.</summary>
    private sealed class ScrambledConnection : GossipConnection
    {
        private readonly GossipConnection _inner;
        private readonly Pipe _in = new();
        private readonly Pipe _out = new();
        private readonly Task _pumps;

        public ScrambledConnection(GossipConnection inner)
        {
            _inner = inner;
            inner.Closed.Register(() => Abort("the wrapped connection closed"));
            _pumps = Task.WhenAll(PumpAsync(inner.Input, _in.Writer), PumpAsync(_out.Reader, inner.Output));
        }

        public override PipeReader Input => _in.Reader;

        public override PipeWriter Output => _out.Writer;

        protected override async ValueTask DisposeCoreAsync()
        {
            await _out.Writer.CompleteAsync();
            await _in.Reader.CompleteAsync();
            await _inner.DisposeAsync();
            await _pumps.WaitAsync(Gossip.Timeout);
        }

        private static async Task PumpAsync(PipeReader from, PipeWriter to)
        {
            try
            {
                while (true)
                {
                    ReadResult read = await from.ReadAsync();
                    foreach (ReadOnlyMemory<byte> segment in read.Buffer)
                    {
                        Memory<byte> target = to.GetMemory(segment.Length);
                        for (int i = 0; i < segment.Length; i++)
                        {
                            target.Span[i] = (byte)(segment.Span[i] ^ 0x5a);
                        }

                        to.Advance(segment.Length);
                    }

                    from.AdvanceTo(read.Buffer.End);
                    FlushResult flushed = await to.FlushAsync();
                    if (read.IsCompleted || flushed.IsCompleted)
                    {
                        break;
                    }
                }
            }
            catch (Exception)
            {
                // The other side of the pump went away: the link is ending.
            }
            finally
            {
                await from.CompleteAsync();
                await to.CompleteAsync();
            }
        }
    }
}
