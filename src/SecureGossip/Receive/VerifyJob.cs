using System.Buffers;
using System.Text;
using System.Text.Unicode;
using System.Threading.Tasks.Sources;
using SecureGossip.Crypto;
using SecureGossip.Engine;
using SecureGossip.Links;
using SecureGossip.Protocol;

namespace SecureGossip.Receive;

/// <summary>
/// One received message on its way through the node: parsed by its link's read loop, admitted by the actor,
/// verified on a verifier thread, committed by the actor in arrival order. Pooled and reused; the actor awaits
/// its verification as a <see cref="ValueTask{Boolean}"/> without allocating.
/// </summary>
internal sealed class VerifyJob : NodeWork, IValueTaskSource<bool>
{
    // The job's use (its generation, bumped each time it is reset for reuse) and whether its verification has started,
    // in one word: a verifier holding a queue entry of an earlier use, or one the actor already ran, cannot start it.
    private int _state;

    [ThreadStatic]
    private static ByteBuffer? t_scratch;

    private ManualResetValueTaskSourceCore<bool> _completion = new() { RunContinuationsAsynchronously = true };
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(1024);
    private int _length;
    private byte[]? _owned; // a line handed over whole (a v2 msg frame's own copy): read in place, kept as the stored line
    private char[] _author = new char[64];
    private int _authorLength;

    public byte[] Signature { get; } = new byte[64];

    /// <summary>The author's key as decoded from the line (the first 32 bytes).</summary>
    public byte[] RawKey { get; } = new byte[33];

    public ReadOnlySpan<byte> Line => _owned ?? _buffer.AsSpan(0, _length);

    /// <summary>The author's key as the line spells it.</summary>
    public ReadOnlySpan<char> AuthorName => _author.AsSpan(0, _authorLength);

    public AuthorEntry? Author { get; set; }

    /// <summary>The link the line came from (null for lines handed in directly).</summary>
    public PeerLink? Source { get; set; }

    public double Seq { get; set; }

    /// <summary>The message's digest (docs/PROTOCOL.md §3.3).</summary>
    public UInt128 Id { get; set; }

    /// <summary>The message is this node's own (it came back): the engine hears of it as a duplicate.</summary>
    public bool Own { get; set; }

    /// <summary>This copy holds the claim on <see cref="Id"/> (it is the one being verified).</summary>
    public bool Claimed { get; set; }

    /// <summary>A copy of a message already in flight: verified by the actor only if the first fails.</summary>
    public bool Deferred { get; set; }

    public int DataStart { get; set; }

    /// <summary>The v2 <c>msg</c> frame the line came in (its kind, hops and age), null for a v1 line.</summary>
    public Protocol.Core.PlumtreeMessage? V2Frame { get; set; }

    public byte[]? Payload { get; private set; }

    /// <summary>The seq the author signed (<c>$sg</c>), if it signed one; set by a successful <see cref="Verify"/>.</summary>
    public long? SignedSeq { get; private set; }

    public byte[]? StoredLine { get; private set; }

    public NodeCounters? Counters { get; set; }

    /// <summary>The id of the topic the node is on (<see cref="GossipTopic.Id"/>), null on the default topic.</summary>
    public string? Topic { get; set; }

    /// <summary>The name of the topic the node is on (the verify-time histogram's tag).</summary>
    public string? TopicName { get; set; }

    /// <summary>Where the verification time is recorded (while a listener wants it).</summary>
    public Diagnostics.GossipMetrics? Metrics { get; set; }

    /// <summary>Set by <see cref="Verify"/> when the signature holds but the message was signed for another topic.</summary>
    public bool WrongTopic { get; private set; }

    /// <summary>The actor to wake when the verification finishes.</summary>
    public NodeActor? Actor { get; set; }

    public ValueTask<bool> Completion => new(this, _completion.Version);

    /// <summary>Its verification has finished (awaiting <see cref="Completion"/> will not wait).</summary>
    public bool IsVerified => _completion.GetStatus(_completion.Version) != ValueTaskSourceStatus.Pending;

    /// <summary>
    /// Copies the line in, as the JS peer sees it: a trailing CR removed (split on /\r?\n/), invalid UTF-8
    /// replaced by U+FFFD (its stream decoder), which is also the form it forwards.
    /// </summary>
    public void Load(ReadOnlySequence<byte> line)
    {
        int length = (int)line.Length;
        if (_buffer.Length < length)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(length);
        }

        line.CopyTo(_buffer);
        if (length > 0 && _buffer[length - 1] == (byte)'\r')
        {
            length--;
        }

        _length = length;
        if (!Utf8.IsValid(Line))
        {
            byte[] fixedUp = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Line));
            if (_buffer.Length < fixedUp.Length)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = ArrayPool<byte>.Shared.Rent(fixedUp.Length);
            }

            fixedUp.CopyTo(_buffer, 0);
            _length = fixedUp.Length;
        }
    }

    /// <summary>
    /// Takes <paramref name="line"/> over, not copied, when it is already in the form <see cref="Load(ReadOnlySequence{byte})"/>
    /// would make (no trailing CR, valid UTF-8): the caller must not touch it again. Otherwise it is copied as Load does.
    /// </summary>
    public void Adopt(byte[] line)
    {
        if (line.Length > 0 && line[^1] != (byte)'\r' && Utf8.IsValid(line))
        {
            _owned = line;
            _length = line.Length;
            return;
        }

        Load(new ReadOnlySequence<byte>(line));
    }

    /// <summary>Sets the author's spelling (decoded from the envelope).</summary>
    public void SetAuthor(ReadOnlySpan<char> name)
    {
        if (_author.Length < name.Length)
        {
            _author = new char[name.Length];
        }

        name.CopyTo(_author);
        _authorLength = name.Length;
    }

    /// <summary>Verifies on the calling thread; on success prepares the payload and the line to forward.</summary>
    public bool Verify()
    {
        ByteBuffer scratch = t_scratch ??= new ByteBuffer(4096);
        scratch.Clear();
        System.Diagnostics.Metrics.Histogram<double>? timing = Metrics?.VerifyDuration is { Enabled: true } histogram ? histogram : null;
        long started = timing is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
        V8Json.Shared.Write(Line, DataStart, scratch, indented: true, asSignedPayload: true);
        Interlocked.Increment(ref Counters!.SignaturesVerified);
        bool valid = GossipKeys.Verify(Author!.Key, scratch.WrittenSpan, Signature);
        timing?.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("gossip.topic", TopicName));
        if (!valid)
        {
            return false;
        }

        // docs/PROTOCOL.md §20: a message belongs to the topic whose id it signed, and one without is the default's.
        bool hasTopic = V1Envelope.TryReadSignedTopic(Line, DataStart, out bool topicMatches, Topic);
        if (hasTopic ? !topicMatches : Topic is not null)
        {
            WrongTopic = true;
            return false;
        }

        SignedSeq = V1Envelope.TryReadSignedSeq(Line, DataStart, out long signed) ? signed : null;
        scratch.Clear();
        V8Json.Shared.Write(Line, DataStart, scratch, indented: false, asSignedPayload: true, withoutSignedSeq: SignedSeq.HasValue || hasTopic);
        Payload = scratch.ToArray();
        StoredLine = _owned ?? Line.ToArray();
        if (scratch.Length > 64 * 1024)
        {
            scratch.Dispose();
            t_scratch = null; // do not pin a large buffer to a pool thread
        }

        return true;
    }

    /// <summary>This use of the job; the verifier queue remembers it beside each entry.</summary>
    public int Generation => Volatile.Read(ref _state) >> 1;

    /// <summary>Runs the verification of this use (<paramref name="generation"/>) unless it has started already; true when it ran here.</summary>
    public bool TryRun(int generation)
    {
        if (Interlocked.CompareExchange(ref _state, (generation << 1) | 1, generation << 1) != generation << 1)
        {
            return false;
        }

        Execute();
        return true;
    }

    /// <summary>
    /// The actor runs its own verification, on its thread, if no verifier has started it: true when it is done here.
    /// </summary>
    public bool TryRunHere() => TryRun(Generation);

    private void Execute()
    {
        bool valid;
        try
        {
            valid = Verify();
        }
        catch (Exception e)
        {
            NodeActor? failed = Actor;
            _completion.SetException(e);
            failed?.Verified(this);
            return;
        }

        NodeActor? actor = Actor; // read before completing: the actor may recycle this job at once
        _completion.SetResult(valid);
        actor?.Verified(this);
    }

    public void Reset()
    {
        Volatile.Write(ref _state, ((_state >> 1) + 1) << 1); // a new use, not started; stale queue entries no longer match
        _completion.Reset();
        Author = null;
        Payload = null;
        Source = null;
        SignedSeq = null;
        WrongTopic = false;
        StoredLine = null;
        _owned = null;
        V2Frame = null;
        Deferred = false;
        Claimed = false;
        Own = false;
        _length = 0;
        _authorLength = 0;
        if (_buffer.Length > 64 * 1024)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = ArrayPool<byte>.Shared.Rent(1024);
        }
    }

    public bool GetResult(short token) => _completion.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _completion.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);
}
