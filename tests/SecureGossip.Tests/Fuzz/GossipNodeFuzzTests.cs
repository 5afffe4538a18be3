using System.Buffers;
using System.Text;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Fuzz;

/// <summary>Seeded mutations of valid wire lines: every one is accepted or dropped and counted, none throws.</summary>
public sealed class GossipNodeFuzzTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Mutated_lines_never_throw_and_every_line_has_an_outcome(int seed)
    {
        await using GossipNode author = Gossip.Node(Timeout.InfiniteTimeSpan);
        string[] valid = Gossip.SignedLines(author, [
            "{\"text\":\"héllo \\u2028 😀\",\"n\":[1,2.5,-0,1e21],\"o\":{\"a\":null,\"1\":true}}",
            "{\"deep\":[[[[{\"x\":\"\\ud800\"}]]]],\"s\":\"\\\"q\\\"\"}",
        ]);
        await using GossipNode receiver = Gossip.Node(Timeout.InfiniteTimeSpan);
        var inbox = Gossip.Watch(receiver);
        var genuine = new HashSet<string>();
        await using (GossipNode reference = Gossip.Node(Timeout.InfiniteTimeSpan))
        {
            var referenceInbox = Gossip.Watch(reference);
            foreach (string line in valid)
            {
                await reference.HandleLineAsync(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(line)), CancellationToken.None);
            }

            await reference.WhenIdleAsync();
            genuine.UnionWith(referenceInbox.Messages.Select(m => m.ToString()));
        }

        Assert.Equal(2, genuine.Count);
        var random = new Random(seed);
        const int Count = 4000;
        for (int i = 0; i < Count; i++)
        {
            byte[] line = Encoding.UTF8.GetBytes(valid[random.Next(valid.Length)]);
            byte[] mutated = Mutate(line, random);
            await receiver.HandleLineAsync(new ReadOnlySequence<byte>(mutated), CancellationToken.None);
        }

        await receiver.WhenIdleAsync();
        GossipNodeStatistics stats = receiver.Statistics;
        Assert.Equal(Count, stats.LinesReceived);
        Assert.Equal(Count, stats.MessagesAccepted + stats.DroppedMalformed + stats.DroppedBadSignature + stats.DroppedOld + stats.DroppedOwn);
        // Whatever a mutation did to the unsigned envelope (v1 accepts a replay under a higher seq, or a key
        // respelled), nothing accepted can carry a payload the author did not sign.
        Assert.All(inbox.Messages, m => Assert.Contains(m.ToString(), genuine));
    }

    private const string Tokens = "{}[]\",:\\0123456789eE.-+ntfu\u007f";

    private static byte[] Mutate(byte[] line, Random random)
    {
        var bytes = new List<byte>(line);
        int edits = 1 + random.Next(4);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(6))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256); // any byte, invalid UTF-8 included
                    break;
                case 1:
                    bytes.RemoveAt(at);
                    break;
                case 2:
                    bytes.Insert(at, (byte)Tokens[random.Next(Tokens.Length)]);
                    break;
                case 3:
                    bytes.RemoveRange(at, bytes.Count - at); // truncate
                    break;
                case 4:
                    bytes.InsertRange(at, Enumerable.Repeat((byte)'[', random.Next(1, 200)));
                    break;
                default:
                    (bytes[at], bytes[random.Next(bytes.Count)]) = (bytes[random.Next(bytes.Count)], bytes[at]);
                    break;
            }
        }

        return [.. bytes];
    }
}
