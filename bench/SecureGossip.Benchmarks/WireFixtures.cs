using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using SecureGossip.Crypto;
using SecureGossip.Transports;

namespace SecureGossip.Benchmarks;

/// <summary>Signed wire lines made by a real node, for the benchmarks to feed back in.</summary>
internal static class WireFixtures
{
    public const string TypicalPayload = "{\"type\":\"chat\",\"room\":\"general\",\"text\":\"hello from the benchmark, with a little text\",\"at\":1732470000123,\"tags\":[\"a\",\"b\"],\"meta\":{\"v\":2,\"ok\":true}}";

    /// <summary><paramref name="count"/> lines by one author with seq 0..count-1, as the author's node wrote them.</summary>
    public static byte[][] Lines(GossipKeys author, int count, Func<int, string>? payload = null)
    {
        var node = new GossipNode(new GossipNodeOptions { Keys = author, Interval = Timeout.InfiniteTimeSpan });
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        _ = node.RunConnectionAsync(new DuplexPipeConnection(new Pipe().Reader, pipe.Writer));
        for (int i = 0; i < count; i++)
        {
            node.PublishJson(payload?.Invoke(i) ?? TypicalPayload);
        }

        node.Gossip();
        var lines = new List<byte[]>(count);
        while (lines.Count < count)
        {
            ReadResult result = pipe.Reader.ReadAsync().AsTask().GetAwaiter().GetResult();
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (lines.Count < count && buffer.PositionOf((byte)'\n') is SequencePosition nl)
            {
                lines.Add(buffer.Slice(0, nl).ToArray());
                buffer = buffer.Slice(buffer.GetPosition(1, nl));
            }

            pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
        }

        node.Dispose();
        return [.. lines];
    }

    public static string Text(byte[] line) => Encoding.UTF8.GetString(line);
}

internal static class GossipNodeExtensions
{
    public static void Dispose(this GossipNode node) => node.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
