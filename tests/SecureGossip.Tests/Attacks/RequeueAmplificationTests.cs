using System.Buffers;
using System.IO.Pipelines;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Attacks;

/// <summary>
/// Found by the idle-connection flood (<see cref="NodeDefenceTests"/>): when a v1 link ends, the round lines still in
/// its outbox go back to the node's store for the next round (GossipNode.Requeue), once per link that ends. Every v1
/// peer has the same lines queued, so K peers that stop reading and then leave put each line back K times, and the next
/// round sends all K copies to every other v1 peer. Repeated (links evicted while their outboxes hold requeued lines),
/// the store grows without bound: in the TCP flood 38 idle sockets received 17.9 MB each and 59 links were closed for
/// having 16 MiB queued, all from 3 honest messages of ~120 bytes. Deterministic here: peers whose flushes never
/// complete, manual rounds. Fails until Requeue puts each line back at most once (e.g. by reference, per round).
/// </summary>
public sealed class RequeueAmplificationTests
{
    [Fact]
    public async Task Links_that_end_with_unsent_round_lines_do_not_multiply_them_to_the_other_v1_peers()
    {
        const int Stuck = 20, PerRound = 50;
        await using var victim = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan });

        // A v1 peer (it never says hello) that reads everything and counts the lines.
        (GossipConnection readerEnd, GossipConnection readerTheirs) = InMemoryTransport.CreatePair();
        _ = victim.RunConnectionAsync(readerTheirs);
        var reader = new LineCounter(readerEnd);

        // v1 peers that stop reading: the victim's first flush to each (its hello) never completes.
        var stuck = new List<(StalledConnection Peer, Task Link)>();
        for (int i = 0; i < Stuck; i++)
        {
            var peer = new StalledConnection();
            stuck.Add((peer, victim.RunConnectionAsync(peer)));
        }

        for (int i = 0; i < PerRound; i++)
        {
            victim.PublishJson($"{{\"i\":{i},\"pad\":\"{new string('x', 100)}\"}}");
        }

        victim.Gossip(); // to every v1 peer: the reader gets the lines, the stalled peers' outboxes keep them
        await reader.WaitForAsync($"\"i\":{PerRound - 1},");
        foreach ((StalledConnection peer, Task link) in stuck)
        {
            peer.Leave();
            await link.WaitAsync(TimeSpan.FromSeconds(30)); // the victim ended the link (and requeued its outbox)
        }

        long before = reader.Lines;
        victim.PublishJson("{\"sentinel\":true}");
        victim.Gossip();
        await reader.WaitForAsync("\"sentinel\":true");
        long resent = reader.Lines - before - 1;

        // The reader already has every line; one more copy of each would be tolerable, 20 copies are an amplifier.
        Assert.True(resent <= PerRound, $"{resent} lines sent again to a peer that had them all ({Stuck} links ended with {PerRound} unsent lines each)");
        await readerEnd.DisposeAsync();
    }

    /// <summary>
    /// Reads a connection's lines, counting them and signalling when one containing a given text arrives (or has
    /// arrived already: a wait set up after the line came still ends).
    /// </summary>
    private sealed class LineCounter
    {
        private readonly List<(string Text, TaskCompletionSource Signal)> _waiters = [];
        private readonly List<string> _seen = [];
        private long _lines;

        public LineCounter(GossipConnection connection) => _ = ReadAsync(connection.Input);

        public long Lines => Interlocked.Read(ref _lines);

        public Task WaitForAsync(string text)
        {
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_waiters)
            {
                if (_seen.Any(line => line.Contains(text, StringComparison.Ordinal)))
                {
                    return Task.CompletedTask;
                }

                _waiters.Add((text, signal));
            }

            return signal.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }

        private async Task ReadAsync(PipeReader input)
        {
            try
            {
                while (true)
                {
                    ReadResult result = await input.ReadAsync();
                    ReadOnlySequence<byte> buffer = result.Buffer;
                    while (buffer.PositionOf((byte)'\n') is SequencePosition end)
                    {
                        string line = System.Text.Encoding.UTF8.GetString(buffer.Slice(0, end).ToArray());
                        buffer = buffer.Slice(buffer.GetPosition(1, end));
                        Interlocked.Increment(ref _lines);
                        lock (_waiters)
                        {
                            _seen.Add(line);
                            foreach (var waiter in _waiters.Where(w => line.Contains(w.Text, StringComparison.Ordinal)))
                            {
                                waiter.Signal.TrySetResult();
                            }
                        }
                    }

                    input.AdvanceTo(buffer.Start, buffer.End);
                    if (result.IsCompleted || result.IsCanceled)
                    {
                        break;
                    }
                }
            }
            catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or IOException)
            {
            }
        }
    }
}
