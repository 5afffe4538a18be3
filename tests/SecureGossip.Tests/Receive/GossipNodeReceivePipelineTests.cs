using System.Buffers;
using System.Text;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Receive;

/// <summary>Parallel verification must not change what is accepted, in what order, or how often it is verified.</summary>
public sealed class GossipNodeReceivePipelineTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Copies_arriving_at_once_on_four_links_are_verified_once_and_delivered_in_seq_order(bool byId)
    {
        const int Messages = 300;
        await using GossipNode author = Gossip.Node(Timeout.InfiniteTimeSpan);
        string[] lines = Gossip.SignedLines(author, [.. Enumerable.Range(0, Messages).Select(i => $"{{\"i\":{i}}}")]);
        byte[] stream = Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));
        await using var receiver = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, DeduplicateById = byId });
        var inbox = Gossip.Watch(receiver);

        var links = new List<Task>();
        var writers = new List<Task>();
        for (int link = 0; link < 4; link++)
        {
            (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
            links.Add(receiver.RunConnectionAsync(left));
            writers.Add(Task.Run(async () =>
            {
                for (int offset = 0; offset < stream.Length; offset += 1000)
                {
                    await right.Output.WriteAsync(stream.AsMemory(offset, Math.Min(1000, stream.Length - offset)));
                }

                await right.Output.CompleteAsync(); // the link ends once the receiver has read every line
            }));
        }

        await Task.WhenAll(writers);
        var got = await inbox.WaitForAsync(Messages);
        // Every line is counted once it is read, before it is checked: once the links are down, every line was handed
        // to the actor, and once it is idle, each has its outcome.
        await Task.WhenAll(links).WaitAsync(Gossip.Timeout);
        await receiver.WhenIdleAsync();

        Assert.Equal(Enumerable.Range(0, Messages).Select(i => (double)i), got.Select(m => m.Sequence));
        GossipNodeStatistics stats = receiver.Statistics;
        Assert.Equal(Messages, stats.MessagesAccepted);
        Assert.Equal(Messages, stats.SignaturesVerified);
        Assert.Equal(3 * Messages, stats.DroppedOld);
    }

    [Fact]
    public async Task While_the_verifiers_are_behind_the_actor_verifies_its_own_messages_and_each_still_once()
    {
        // 3,000 messages at once on two links (each message on both): the shared verifier threads fall behind, so the
        // actor runs the verification it waits on itself instead of sleeping until a verifier reaches it. Whoever
        // starts a verification first runs it; the other skips it, and a verifier's queue entry of a job the actor
        // has run, finished and reused for another message is skipped too (VerifyJob's generation).
        const int Messages = 3000;
        await using GossipNode author = Gossip.Node(Timeout.InfiniteTimeSpan);
        string[] lines = Gossip.SignedLines(author, [.. Enumerable.Range(0, Messages).Select(i => $"{{\"i\":{i}}}")]);
        byte[] stream = Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));
        await using var receiver = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan });
        var inbox = Gossip.Watch(receiver);

        var links = new List<Task>();
        for (int link = 0; link < 2; link++)
        {
            (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
            links.Add(receiver.RunConnectionAsync(left));
            await right.Output.WriteAsync(stream);
            await right.Output.CompleteAsync();
        }

        var got = await inbox.WaitForAsync(Messages);
        await Task.WhenAll(links).WaitAsync(Gossip.Timeout);
        await receiver.WhenIdleAsync().WaitAsync(Gossip.Timeout);

        Assert.Equal(Enumerable.Range(0, Messages).Select(i => (double)i), got.Select(m => m.Sequence));
        GossipNodeStatistics stats = receiver.Statistics;
        Assert.Equal(Messages, stats.MessagesAccepted);
        Assert.Equal(Messages, stats.SignaturesVerified);
        Assert.True(receiver.VerifiedOnActor < Messages, "the verifier threads verified some too");
        if (Environment.ProcessorCount <= 16)
        {
            // One verifier thread per core: with few cores, 3,000 verifications at once leave every one of them behind.
            Assert.True(receiver.VerifiedOnActor > 0, "the actor verified some itself");
        }
    }

    [Fact]
    public void A_verifier_queue_entry_of_an_earlier_use_of_a_job_does_not_run_it()
    {
        var job = new SecureGossip.Receive.VerifyJob();
        int first = job.Generation;
        job.Reset(); // finished (the actor ran it) and reused for another message

        job.TryRun(first); // the verifier's stale entry

        Assert.False(job.IsVerified);
        Assert.Equal(first + 1, job.Generation);
    }

    [Fact]
    public async Task A_window_smaller_than_a_read_loops_batch_still_drains_on_every_link()
    {
        // Each read loop hands its messages to the actor in batches; with room for only two messages in flight, a loop
        // that waited for room while holding a batch would wait for itself. Eight links write at once.
        const int Messages = 200;
        await using GossipNode author = Gossip.Node(Timeout.InfiniteTimeSpan);
        string[] lines = Gossip.SignedLines(author, [.. Enumerable.Range(0, Messages).Select(i => $"{{\"i\":{i}}}")]);
        byte[] stream = Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l + "\n")));
        await using var receiver = new GossipNode(new GossipNodeOptions
        {
            Interval = Timeout.InfiniteTimeSpan,
            Receive = new GossipReceiveOptions { MaxInFlight = 2 },
        });

        var links = new List<Task>();
        for (int link = 0; link < 8; link++)
        {
            (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
            links.Add(receiver.RunConnectionAsync(left));
            await right.Output.WriteAsync(stream); // the whole stream in one read: a full batch at once
            await right.Output.CompleteAsync();
        }

        await Task.WhenAll(links).WaitAsync(Gossip.Timeout);
        await receiver.WhenIdleAsync().WaitAsync(Gossip.Timeout);
        GossipNodeStatistics stats = receiver.Statistics;
        Assert.Equal(Messages, stats.MessagesAccepted);
        Assert.Equal(7 * Messages, stats.DroppedOld);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_forged_first_copy_does_not_shadow_the_genuine_one_behind_it(bool byId)
    {
        await using GossipNode author = Gossip.Node(Timeout.InfiniteTimeSpan);
        string genuine = Gossip.SignedLine(author, "{\"v\":\"real\"}");
        string forged = genuine.Replace("\"real\"", "\"fake\"", StringComparison.Ordinal);
        await using var receiver = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, DeduplicateById = byId });
        var inbox = Gossip.Watch(receiver);

        await receiver.HandleLineAsync(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(forged)), CancellationToken.None);
        await receiver.HandleLineAsync(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(genuine)), CancellationToken.None);
        await receiver.WhenIdleAsync();

        Assert.Equal("{\"v\":\"real\"}", Assert.Single(inbox.Messages).ToString());
        GossipNodeStatistics stats = receiver.Statistics;
        Assert.Equal(2, stats.SignaturesVerified);
        Assert.Equal(1, stats.DroppedBadSignature);
    }
}
