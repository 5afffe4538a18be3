using System.Buffers;
using BenchmarkDotNet.Attributes;
using SecureGossip.Crypto;

namespace SecureGossip.Benchmarks;

/// <summary>
/// The whole receive path of a node for new messages: 1,000 lines (one author, seq 0..999) handed to a fresh node,
/// verified on every core and accepted in order. Reported per line; the allocation is what each accepted message
/// costs (its payload and message object for the user, the line kept for forwarding).
/// </summary>
[MemoryDiagnoser]
public class AcceptBenchmarks
{
    private const int Lines = 1000;
    private byte[][] _lines = null!;
    private GossipKeys _author = null!;
    private GossipNode? _node;

    [GlobalSetup]
    public void Setup()
    {
        _author = GossipKeys.FromSeed(new byte[32]);
        _lines = WireFixtures.Lines(_author, Lines);
    }

    [IterationSetup]
    public void FreshNode() => _node = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, Protocol = GossipProtocol.V1 });

    [IterationCleanup]
    public void DisposeNode() => _node?.Dispose();

    [Benchmark(OperationsPerInvoke = Lines, Description = "accept a new line: parse, verify (all cores), payload, in order")]
    [InvocationCount(1)]
    public async Task<long> AcceptNewLines()
    {
        foreach (byte[] line in _lines)
        {
            await _node!.HandleLineAsync(new ReadOnlySequence<byte>(line), CancellationToken.None);
        }

        await _node!.WhenIdleAsync();
        return _node.Statistics.MessagesAccepted;
    }

    [GlobalCleanup]
    public void Cleanup() => _author.Dispose();
}
