using System.Buffers;
using System.Text;
using System.Text.Json;
using SecureGossip.Crypto;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Tests.Vectors;

namespace SecureGossip.Tests.Receive;

/// <summary>
/// Each golden line was written into a real secure-gossip 0.3.1 peer under node; the .NET node must give the same
/// verdict and emit the same payload, except where this library deliberately differs (listed with the reason).
/// </summary>
public sealed class GossipNodeVectorTests
{
    /// <summary>Lines the JS peer accepts and we drop, each for a documented reason.</summary>
    private static readonly Dictionary<string, string> s_dropped = new()
    {
        ["seq string \"0\""] = "seq must be a JSON number (JS compares any type and never remembers undefined)",
        ["seq missing"] = "seq must be a JSON number",
        ["seq null"] = "seq must be a JSON number",
        ["seq object"] = "seq must be a JSON number",
        ["public of the receiver with @ sigil (own key, not recognised as own)"] = "our own key in any spelling is our own message",
        ["deep nesting 1000 levels, validly signed"] = "MaxJsonDepth (64 by default) bounds the canonicalizer's recursion",
    };

    /// <summary>Sequences whose outcome differs for the same reasons: the .NET verdicts.</summary>
    private static readonly Dictionary<string, bool[]> s_sequences = new()
    {
        ["seq missing twice (undefined is never remembered)"] = [false, false, true],
        ["strings compare as strings: \"10\" then \"9\""] = [false, false],
        ["string \"0\" then number 1"] = [false, true],
        ["null then 0 then 1"] = [false, true, true],
        ["object then 5 (NaN comparisons)"] = [false, true],
        ["true then 1 then 2"] = [false, true, true],
    };

    public static TheoryData<string> Lines => GoldenVectors.Names("lines");

    public static TheoryData<string> Sequences => GoldenVectors.Names("sequences");

    [Theory]
    [MemberData(nameof(Lines))]
    public async Task Gives_the_JS_verdict_on_each_line(string name)
    {
        JsonElement vector = GoldenVectors.Named("lines", name);
        using GossipKeys keys = Gossip.VectorKeys(1);
        await using GossipNode node = Gossip.V1Node(Timeout.InfiniteTimeSpan, keys);
        var received = new List<GossipMessage>();
        node.MessageReceived += (_, m) => received.Add(m);

        await node.HandleLineAsync(new ReadOnlySequence<byte>(GoldenVectors.Bytes(vector, "line")), CancellationToken.None);
        await node.WhenIdleAsync();

        bool jsAccepted = vector.GetProperty("accepted").GetBoolean();
        bool expected = jsAccepted && !s_dropped.ContainsKey(name);
        Assert.Equal(expected, received.Count == 1);
        if (expected)
        {
            Assert.Equal(vector.GetProperty("emitted").GetString(), received[0].ToString());
            Assert.Equal(vector.GetProperty("public").GetString(), received[0].Author);
            Assert.Equal(1, node.Statistics.MessagesAccepted);
        }
        else
        {
            GossipNodeStatistics stats = node.Statistics;
            Assert.Equal(1, stats.DroppedMalformed + stats.DroppedBadSignature + stats.DroppedOwn + stats.DroppedOld);
        }
    }

    [Theory]
    [MemberData(nameof(Sequences))]
    public async Task Gives_the_JS_verdicts_on_each_sequence(string name)
    {
        JsonElement vector = GoldenVectors.Named("sequences", name);
        bool[] expected = s_sequences.TryGetValue(name, out bool[]? ours)
            ? ours
            : [.. vector.GetProperty("accepted").EnumerateArray().Select(e => e.GetBoolean())];
        using GossipKeys keys = Gossip.VectorKeys(1);
        await using GossipNode node = Gossip.V1Node(Timeout.InfiniteTimeSpan, keys);

        var verdicts = new List<bool>();
        foreach (JsonElement line in vector.GetProperty("lines").EnumerateArray())
        {
            long before = node.Statistics.MessagesAccepted;
            await node.HandleLineAsync(new ReadOnlySequence<byte>(Convert.FromBase64String(line.GetString()!)), CancellationToken.None);
            await node.WhenIdleAsync();
            verdicts.Add(node.Statistics.MessagesAccepted > before);
        }

        Assert.Equal(expected, verdicts);
    }

    [Fact]
    public async Task Every_accepted_line_is_forwarded_as_the_bytes_that_arrived()
    {
        using GossipKeys keys = Gossip.VectorKeys(1);
        await using GossipNode node = Gossip.V1Node(Timeout.InfiniteTimeSpan, keys);
        (var left, var right) = SecureGossip.Transports.InMemoryTransport.CreatePair();
        _ = node.RunConnectionAsync(left);

        foreach (JsonElement vector in GoldenVectors.Section("lines").Where(v => v.GetProperty("accepted").GetBoolean() && !s_dropped.ContainsKey(v.GetProperty("name").GetString()!)))
        {
            byte[] line = GoldenVectors.Bytes(vector, "line");
            await node.HandleLineAsync(new ReadOnlySequence<byte>(line), CancellationToken.None);
            await node.WhenIdleAsync();
        }

        Assert.True(node.Statistics.MessagesAccepted > 0);
        node.Gossip();
        var reader = right.Input;
        long expectedLines = node.Statistics.MessagesAccepted;
        var received = new List<string>();
        while (received.Count < expectedLines)
        {
            var result = await reader.ReadAsync().AsTask().WaitAsync(Gossip.Timeout);
            var buffer = result.Buffer;
            while (buffer.PositionOf((byte)'\n') is SequencePosition nl)
            {
                received.Add(Encoding.UTF8.GetString(buffer.Slice(0, nl)));
                buffer = buffer.Slice(buffer.GetPosition(1, nl));
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }

        // Each forwarded line is byte-identical to a golden line (without a trailing CR), never re-serialized.
        var golden = GoldenVectors.Section("lines")
            .Select(v => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(GoldenVectors.Bytes(v, "line")))).TrimEnd('\r'))
            .ToHashSet();
        Assert.All(received, line => Assert.Contains(line, golden));
    }
}
