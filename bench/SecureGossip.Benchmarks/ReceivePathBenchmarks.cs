using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using SecureGossip.Crypto;
using SecureGossip.Protocol;

namespace SecureGossip.Benchmarks;

/// <summary>
/// The pieces of receiving one wire line: the physical limit (ed25519 verify), canonical JSON, parse, and the
/// whole check a node does before accepting. Ratios are against <see cref="Verify"/>, the cost no implementation
/// can avoid for a new message.
/// </summary>
[MemoryDiagnoser]
public class ReceivePathBenchmarks
{
    private GossipKeys _keys = null!;
    private byte[] _line = null!;
    private byte[] _canonical = null!;
    private byte[] _signature = null!;
    private byte[] _publicKey = null!;
    private V1Envelope _envelope;
    private ByteBuffer _buffer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _keys = GossipKeys.FromSeed(new byte[32]);
        _line = WireFixtures.Lines(_keys, 1)[0];
        V1Envelope.TryParse(_line, 64, out _envelope);
        _buffer = new ByteBuffer(4096);
        V8Json.Shared.Write(_line, _envelope.DataStart, _buffer, indented: true, asSignedPayload: true);
        _canonical = _buffer.ToArray();
        _signature = new byte[64];
        SsbBase64.Decode(V1Envelope.DecodeString(_line.AsSpan()[_envelope.Signature], false), _signature);
        _publicKey = _keys.PublicKey.ToArray();
    }

    [Benchmark(Baseline = true, Description = "ed25519 verify (NSec)")]
    public bool Verify() => GossipKeys.Verify(_publicKey, _canonical, _signature);

    [Benchmark(Description = "ed25519 sign (NSec)")]
    public string Sign() => _keys.Sign(_canonical);

    [Benchmark(Description = "message id (SHA-256 of key and signature)")]
    public UInt128 MessageId() => MessageIds.Of(_publicKey, _signature);

    [Benchmark(Description = "validate + locate envelope")]
    public DropReason ParseEnvelope() => V1Envelope.TryParse(_line, 64, out _);

    [Benchmark(Description = "canonical JSON, indented (signed form)")]
    public int CanonicalIndented()
    {
        _buffer.Clear();
        V8Json.Shared.Write(_line, _envelope.DataStart, _buffer, indented: true, asSignedPayload: true);
        return _buffer.Length;
    }

    [Benchmark(Description = "canonical JSON, compact (delivered payload)")]
    public int CanonicalCompact()
    {
        _buffer.Clear();
        V8Json.Shared.Write(_line, _envelope.DataStart, _buffer, indented: false, asSignedPayload: true);
        return _buffer.Length;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _buffer.Dispose();
        _keys.Dispose();
    }

    internal static string Describe(byte[] line) => Encoding.UTF8.GetString(line);
}
