using System.Text;
using SecureGossip.Crypto;
using SecureGossip.Tests.Vectors;
using SecureGossip.Transports;

namespace SecureGossip.Tests.TestSupport;

/// <summary>Helpers shared by the node tests: linking nodes, awaiting messages with generous timeouts.</summary>
internal static class Gossip
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>A fast round for end-to-end tests; they await signals, never the clock.</summary>
    public static readonly TimeSpan FastInterval = TimeSpan.FromMilliseconds(5);

    public static GossipNode Node(TimeSpan? interval = null, GossipKeys? keys = null, GossipProtocol protocol = GossipProtocol.V2) =>
        new(new GossipNodeOptions { Interval = interval ?? FastInterval, Keys = keys, Protocol = protocol });

    /// <summary>A node in the secure-gossip 0.3.1 compatibility mode (<see cref="GossipProtocol.V1"/>).</summary>
    public static GossipNode V1Node(TimeSpan? interval = null, GossipKeys? keys = null) => Node(interval, keys, GossipProtocol.V1);

    /// <summary>The key pair the golden lines were addressed to (the receiving peer of vectors.json).</summary>
    public static GossipKeys VectorKeys(int index) =>
        GossipKeys.FromSeed(Convert.FromHexString(GoldenVectors.Section("keys").ElementAt(index).GetProperty("seedHex").GetString()!));

    /// <summary>Links two nodes over an in-memory pair of pipes.</summary>
    public static void Link(GossipNode a, GossipNode b)
    {
        (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
        _ = a.RunConnectionAsync(left);
        _ = b.RunConnectionAsync(right);
    }

    /// <summary>The JS idiom <c>a.pipe(b).pipe(a)</c> over two peer streams.</summary>
    public static void Pipe(Stream a, Stream b, int chunkSize = 0)
    {
        _ = CopyAsync(a, b, chunkSize);
        _ = CopyAsync(b, a, chunkSize);
    }

    /// <summary>A line exactly as <paramref name="node"/> puts it on the wire.</summary>
    public static string SignedLine(GossipNode node, string payload) => SignedLines(node, [payload])[0];

    /// <summary>The lines <paramref name="node"/> puts on the wire for <paramref name="payloads"/> (also queued for its next round).</summary>
    public static string[] SignedLines(GossipNode node, IReadOnlyList<string> payloads) =>
        [.. payloads.Select(p =>
        {
            node.PublishJson(Encoding.UTF8.GetBytes(p), out byte[] line);
            return Encoding.UTF8.GetString(line);
        })];

    /// <summary>Waits until the node's neighbours satisfy <paramref name="condition"/> (checked at each link up, hello and link down).</summary>
    public static Task WaitForPeersAsync(this GossipNode node, Func<IReadOnlyList<GossipPeerInfo>, bool> condition, TimeSpan? timeout = null) =>
        node.WhenPeersAsync(condition).WaitAsync(timeout ?? Timeout);

    /// <summary>
    /// Waits until the node's counters satisfy <paramref name="condition"/>: checked whenever the node's actor has
    /// worked, so for what the actor counts (see <see cref="GossipNode.WhenStatisticsAsync"/>).
    /// </summary>
    public static Task WaitForStatisticsAsync(this GossipNode node, Func<GossipNodeStatistics, bool> condition, TimeSpan? timeout = null) =>
        node.WhenStatisticsAsync(condition).WaitAsync(timeout ?? Timeout);

    /// <summary>
    /// Waits until <paramref name="count"/> summed over <paramref name="nodes"/> reaches <paramref name="total"/>, waking
    /// whenever one node's share grows (an actor-kept counter, as for <see cref="WaitForStatisticsAsync"/>).
    /// </summary>
    public static async Task WaitForTotalAsync(IReadOnlyList<GossipNode> nodes, Func<GossipNodeStatistics, long> count, long total)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (true)
        {
            long[] now = [.. nodes.Select(n => count(n.Statistics))];
            if (now.Sum() >= total)
            {
                return;
            }

            await Task.WhenAny(nodes.Select((n, i) => n.WhenStatisticsAsync(s => count(s) > now[i]))).WaitAsync(timeout.Token);
        }
    }

    /// <summary>
    /// Waits until every link of every node speaks v2 and each side has taken in the other's first frontier, so the
    /// links carry only live traffic from here on.
    /// </summary>
    public static async Task WaitForV2Async(params GossipNode[] nodes)
    {
        await Task.WhenAll(nodes.Select(n => n.WhenSyncedAsync())).WaitAsync(Timeout);
        await Task.WhenAll(nodes.Select(n => n.WhenIdleAsync()));
    }

    /// <summary>Collects a node's messages and lets a test await a count of them.</summary>
    public static Inbox Watch(GossipNode node) => new(node);

    private static async Task CopyAsync(Stream from, Stream to, int chunkSize)
    {
        byte[] buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int read = await from.ReadAsync(buffer);
                if (read == 0)
                {
                    break;
                }

                for (int offset = 0; offset < read; offset += chunkSize > 0 ? chunkSize : read)
                {
                    int length = chunkSize > 0 ? Math.Min(chunkSize, read - offset) : read;
                    await to.WriteAsync(buffer.AsMemory(offset, length));
                    await to.FlushAsync();
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
        }
        finally
        {
            await to.DisposeAsync();
        }
    }

    internal sealed class Inbox
    {
        private readonly List<GossipMessage> _messages = [];
        private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];

        public Inbox(GossipNode node)
        {
            node.MessageReceived += (_, message) =>
            {
                lock (_messages)
                {
                    _messages.Add(message);
                    foreach (var waiter in _waiters.Where(w => _messages.Count >= w.Count))
                    {
                        waiter.Signal.TrySetResult();
                    }
                }
            };
        }

        public IReadOnlyList<GossipMessage> Messages
        {
            get
            {
                lock (_messages)
                {
                    return [.. _messages];
                }
            }
        }

        public async Task<IReadOnlyList<GossipMessage>> WaitForAsync(int count)
        {
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_messages)
            {
                if (_messages.Count >= count)
                {
                    return [.. _messages];
                }

                _waiters.Add((count, signal));
            }

            await signal.Task.WaitAsync(Timeout);
            return Messages;
        }
    }
}
