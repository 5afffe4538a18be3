using System.Buffers;
using BenchmarkDotNet.Attributes;
using SecureGossip.Crypto;
using SecureGossip.Protocol;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Benchmarks;

/// <summary>
/// The v2 frame codec on its own: a <c>msg</c> frame around a typical signed line, and an <c>ihave</c> of 32
/// announcements (a few rounds of lazy push to one neighbour), each encoded to a new array (what the node does today),
/// written into an output the way a connection's pipe takes it, and decoded back. Ratios are against encoding the
/// <c>msg</c> frame, the codec work every forwarded message costs.
/// </summary>
[MemoryDiagnoser]
public class V2FrameBenchmarks
{
    private const int IHaveIds = 32;
    private readonly V2Authors _authors = new();
    private PlumtreeMessage _message = null!;
    private PlumtreeIHave _ihave = null!;
    private byte[] _messageFrame = null!;
    private byte[] _ihaveFrame = null!;

    // Stands in for a connection's PipeWriter, whose memory is pooled: what the frame itself costs, nothing else.
    private readonly ArrayBufferWriter<byte> _output = new(4096);

    [GlobalSetup]
    public void Setup()
    {
        using var author = GossipKeys.FromSeed(new byte[32]);
        byte[] line = WireFixtures.Lines(author, 1)[0];
        _message = new PlumtreeMessage(default, line.Length, PlumtreeSendKind.Eager, 3, false) { Line = line, AgeMs = 420 };
        var random = new Random(9);
        var ids = new MessageId[IHaveIds];
        var hops = new int[IHaveIds];
        for (int i = 0; i < IHaveIds; i++)
        {
            ids[i] = MessageId.FromDigest(0, new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64() | 1));
            hops[i] = 1 + (i % 5);
        }

        _ihave = new PlumtreeIHave(ids, hops);
        _messageFrame = V2Frames.Encode(_message, _authors);
        _ihaveFrame = V2Frames.Encode(_ihave, _authors);
    }

    [Benchmark(Baseline = true, Description = "encode msg (byte[])")]
    public byte[] EncodeMessage() => V2Frames.Encode(_message, _authors);

    [Benchmark(Description = "encode ihave x32 (byte[])")]
    public byte[] EncodeIHave() => V2Frames.Encode(_ihave, _authors);

    [Benchmark(Description = "write msg into a reused IBufferWriter")]
    public int WriteMessage()
    {
        _output.ResetWrittenCount();
        V2FrameWriter.WriteLine(_message, _authors, _output);
        return _output.WrittenCount;
    }

    [Benchmark(Description = "write ihave x32 into a reused IBufferWriter")]
    public int WriteIHave()
    {
        _output.ResetWrittenCount();
        V2FrameWriter.WriteLine(_ihave, _authors, _output);
        return _output.WrittenCount;
    }

    [Benchmark(Description = "decode msg")]
    public IGossipFrame? DecodeMessage()
    {
        V2Frames.TryDecode(_messageFrame, _authors, 64, out IGossipFrame? frame, out _);
        return frame;
    }

    [Benchmark(Description = "decode ihave x32")]
    public IGossipFrame? DecodeIHave()
    {
        V2Frames.TryDecode(_ihaveFrame, _authors, 64, out IGossipFrame? frame, out _);
        return frame;
    }
}
