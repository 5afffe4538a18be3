using System.Buffers;
using System.Text;
using System.Text.Unicode;
using System.Threading.Tasks.Sources;
using SecureGossip.Crypto;
using SecureGossip.Protocol;

namespace SecureGossip;

public sealed partial class GossipNode
{
    /// <summary>
    /// One received line on its way through verification: a pooled, reusable work item for the thread pool that
    /// the commit loop awaits as a <see cref="ValueTask{Boolean}"/> without allocating.
    /// </summary>
    private sealed class VerifyJob : IThreadPoolWorkItem, IValueTaskSource<bool>
    {
        [ThreadStatic]
        private static ByteBuffer? t_scratch;

        private ManualResetValueTaskSourceCore<bool> _completion = new() { RunContinuationsAsynchronously = true };
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(1024);
        private int _length;

        public byte[] Signature { get; } = new byte[64];

        public ReadOnlySpan<byte> Line => _buffer.AsSpan(0, _length);

        public AuthorState? Author { get; set; }

        /// <summary>The link the line came from (null for lines handed in directly).</summary>
        public PeerLink? Source { get; set; }

        public double Seq { get; set; }

        /// <summary>The message id (with <see cref="GossipNodeOptions.DeduplicateById"/>).</summary>
        public UInt128 Id { get; set; }

        /// <summary>This copy claimed <see cref="Id"/> as in flight; the commit loop releases the claim.</summary>
        public bool OwnsClaim { get; set; }

        public int DataStart { get; set; }

        /// <summary>A copy of a message already in flight: verified by the commit loop only if the first fails.</summary>
        public bool Deferred { get; set; }

        /// <summary>The v2 <c>msg</c> frame the line came in (its kind, hops and age), null for a v1 line.</summary>
        public Protocol.Core.PlumtreeMessage? V2Frame { get; set; }

        /// <summary>Set on a job that only runs protocol v2 work on the commit loop (which owns the v2 core).</summary>
        public Action? CoreWork { get; set; }

        /// <summary>Set on a marker job that only tells a waiter the commit loop got this far.</summary>
        public TaskCompletionSource? Barrier { get; set; }

        public byte[]? Payload { get; private set; }

        /// <summary>The seq the author signed (<c>$sg</c>), if it signed one; set by a successful <see cref="Verify"/>.</summary>
        public long? SignedSeq { get; private set; }

        public byte[]? StoredLine { get; private set; }

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

        /// <summary>Verifies on the calling thread; on success prepares the payload and the line to forward.</summary>
        public bool Verify(Counters counters)
        {
            ByteBuffer scratch = t_scratch ??= new ByteBuffer(4096);
            scratch.Clear();
            V8Json.Shared.Write(Line, DataStart, scratch, indented: true, asSignedPayload: true);
            Interlocked.Increment(ref counters.SignaturesVerified);
            if (!GossipKeys.Verify(Author!.Key, scratch.WrittenSpan, Signature))
            {
                return false;
            }

            SignedSeq = V1Envelope.TryReadSignedSeq(Line, DataStart, out long signed) ? signed : null;
            scratch.Clear();
            V8Json.Shared.Write(Line, DataStart, scratch, indented: false, asSignedPayload: true, withoutSignedSeq: SignedSeq.HasValue);
            Payload = scratch.ToArray();
            StoredLine = Line.ToArray();
            if (scratch.Length > 64 * 1024)
            {
                scratch.Dispose();
                t_scratch = null; // do not pin a large buffer to a pool thread
            }

            return true;
        }

        public void Execute()
        {
            bool valid;
            try
            {
                valid = Verify(Counters!);
            }
            catch (Exception e)
            {
                _completion.SetException(e);
                return;
            }

            _completion.SetResult(valid);
        }

        public Counters? Counters { get; set; }

        public void Reset()
        {
            _completion.Reset();
            Author = null;
            Payload = null;
            Source = null;
            SignedSeq = null;
            StoredLine = null;
            Barrier = null;
            V2Frame = null;
            CoreWork = null;
            Deferred = false;
            OwnsClaim = false;
            _length = 0;
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
}
