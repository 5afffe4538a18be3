using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using SecureGossip.Crypto;
using SecureGossip.Transports;

namespace SecureGossip.Benchmarks;

/// <summary>
/// NDJSON framing and the receive loop of a node over an in-memory pipe: 1,000 lines that are all duplicates
/// of messages already accepted, so the cost measured is framing + parse + seq check (no verify).
/// </summary>
[MemoryDiagnoser]
public class FramingBenchmarks
{
    private const int Lines = 1000;
    private byte[] _stream = null!;
    private GossipNode _node = null!;
    private GossipKeys _author = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _author = GossipKeys.FromSeed(new byte[32]);
        byte[][] lines = WireFixtures.Lines(_author, Lines);
        _stream = [.. lines.SelectMany(l => l.Append((byte)'\n'))];
        _node = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, Protocol = GossipProtocol.V1 });
        foreach (byte[] line in lines)
        {
            await _node.HandleLineAsync(new System.Buffers.ReadOnlySequence<byte>(line), CancellationToken.None);
            await _node.WhenIdleAsync();
        }
    }

    [Benchmark(Description = "frame + drop 1,000 duplicate lines (4 KiB writes)")]
    public async Task<long> FrameDuplicates()
    {
        long before = _node.Statistics.LinesReceived;
        var toNode = new Pipe();
        var fromNode = new Pipe();
        Task run = _node.RunConnectionAsync(new DuplexPipeConnection(toNode.Reader, fromNode.Writer));
        for (int offset = 0; offset < _stream.Length; offset += 4096)
        {
            await toNode.Writer.WriteAsync(_stream.AsMemory(offset, Math.Min(4096, _stream.Length - offset)));
        }

        await toNode.Writer.CompleteAsync();
        await run;
        return _node.Statistics.LinesReceived - before;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _node.Dispose();
        _author.Dispose();
    }
}
