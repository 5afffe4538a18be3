using System.Text;
using SecureGossip.Crypto;

namespace SecureGossip.Benchmarks;

/// <summary>Signed wire lines made by a real node, for the benchmarks to feed back in.</summary>
internal static class WireFixtures
{
    public const string TypicalPayload = "{\"type\":\"chat\",\"room\":\"general\",\"text\":\"hello from the benchmark, with a little text\",\"at\":1732470000123,\"tags\":[\"a\",\"b\"],\"meta\":{\"v\":2,\"ok\":true}}";

    /// <summary><paramref name="count"/> lines by one author with seq 0..count-1, as the author's node writes them.</summary>
    public static byte[][] Lines(GossipKeys author, int count, Func<int, string>? payload = null)
    {
        var node = new GossipNode(new GossipNodeOptions { Keys = author, Interval = Timeout.InfiniteTimeSpan, Protocol = GossipProtocol.V1 });
        var lines = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            node.PublishJson(Encoding.UTF8.GetBytes(payload?.Invoke(i) ?? TypicalPayload), out lines[i]);
        }

        node.Dispose();
        return lines;
    }

    public static string Text(byte[] line) => Encoding.UTF8.GetString(line);
}

internal static class GossipNodeExtensions
{
    public static void Dispose(this GossipNode node) => node.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
