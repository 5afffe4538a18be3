using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Unicode;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SecureGossip.Crypto;
using SecureGossip.Protocol;

namespace SecureGossip;

public sealed partial class GossipNode
{
    private const int MaxCachedAuthors = 4096;

    [ThreadStatic]
    private static ByteBuffer? t_scratch;

    private readonly SemaphoreSlim _acceptGate = new(1, 1);
    private readonly Dictionary<string, double> _highestSeq = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, NSec.Cryptography.PublicKey> _authorKeys = new(StringComparer.Ordinal);

    internal async ValueTask HandleLineAsync(ReadOnlySequence<byte> line, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _counters.LinesReceived);
        Candidate? candidate;
        if (line.IsSingleSegment)
        {
            candidate = Check(line.FirstSpan);
        }
        else
        {
            byte[] rented = ArrayPool<byte>.Shared.Rent((int)line.Length);
            try
            {
                line.CopyTo(rented);
                candidate = Check(rented.AsSpan(0, (int)line.Length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        if (candidate is not null)
        {
            await AcceptAsync(candidate, cancellationToken);
        }
    }

    /// <summary>
    /// Everything the JS receiver checks before it accepts a line, in its order: JSON, own message, signature,
    /// then seq (here also checked before the signature, to skip verifying copies already accepted).
    /// </summary>
    private Candidate? Check(ReadOnlySpan<byte> line)
    {
        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1]; // split(/\r?\n/)
        }

        byte[]? transcoded = null;
        if (!Utf8.IsValid(line))
        {
            // The JS peer decodes the stream with a UTF-8 StringDecoder: invalid bytes become U+FFFD before
            // JSON.parse, and that decoded line is what it verifies and forwards.
            transcoded = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(line));
            line = transcoded;
        }

        DropReason reason = V1Envelope.TryParse(line, _options.MaxJsonDepth, out V1Envelope envelope);
        if (reason != DropReason.None)
        {
            return Drop(reason);
        }

        string author = V1Envelope.DecodeString(line[envelope.Public], envelope.PublicEscaped);
        if (author == Keys.Public)
        {
            return Drop(DropReason.Own);
        }

        if (!TryGetAuthorKey(author, out NSec.Cryptography.PublicKey? publicKey, out bool own))
        {
            return Drop(own ? DropReason.Own : DropReason.BadKey);
        }

        lock (_gate)
        {
            if (_highestSeq.TryGetValue(author, out double highest) && !(highest < envelope.Seq))
            {
                return Drop(DropReason.Old);
            }
        }

        Span<byte> signature = stackalloc byte[65];
        string signatureText = V1Envelope.DecodeString(line[envelope.Signature], envelope.SignatureEscaped);
        if (SsbBase64.Decode(signatureText, signature) != 64)
        {
            return Drop(DropReason.BadKey);
        }

        ByteBuffer scratch = t_scratch ??= new ByteBuffer(4096);
        scratch.Clear();
        V8Json.Shared.Write(line, envelope.DataStart, scratch, indented: true, asSignedPayload: true);
        Interlocked.Increment(ref _counters.SignaturesVerified);
        if (!GossipKeys.Verify(publicKey!, scratch.WrittenSpan, signature[..64]))
        {
            return Drop(DropReason.BadSignature);
        }

        scratch.Clear();
        V8Json.Shared.Write(line, envelope.DataStart, scratch, indented: false, asSignedPayload: true);
        byte[] payload = scratch.ToArray();
        if (scratch.Length > 64 * 1024)
        {
            t_scratch = null; // do not pin a large buffer to this thread
            scratch.Dispose();
        }

        return new Candidate(author, envelope.Seq, payload, transcoded ?? line.ToArray());

        Candidate? Drop(DropReason why)
        {
            switch (why)
            {
                case DropReason.Own:
                    Interlocked.Increment(ref _counters.DroppedOwn);
                    break;
                case DropReason.Old:
                    Interlocked.Increment(ref _counters.DroppedOld);
                    break;
                case DropReason.BadKey or DropReason.BadSignature:
                    Interlocked.Increment(ref _counters.DroppedBadSignature);
                    break;
                default:
                    Interlocked.Increment(ref _counters.DroppedMalformed);
                    break;
            }

            Log.LineDropped(_logger, why);
            return null;
        }
    }

    private bool TryGetAuthorKey(string author, out NSec.Cryptography.PublicKey? key, out bool own)
    {
        own = false;
        if (_authorKeys.TryGetValue(author, out key))
        {
            return true;
        }

        Span<byte> raw = stackalloc byte[33];
        if (SsbBase64.Decode(author, raw) != 32)
        {
            return false;
        }

        if (raw[..32].SequenceEqual(Keys.PublicKey))
        {
            // Our key spelled differently (a sigil, URL-safe base64): still our own message.
            own = true;
            return false;
        }

        if (!GossipKeys.TryImportPublicKey(raw[..32], out key))
        {
            return false;
        }

        if (_authorKeys.Count >= MaxCachedAuthors)
        {
            _authorKeys.Clear();
        }

        _authorKeys[author] = key!;
        return true;
    }

    private async ValueTask AcceptAsync(Candidate candidate, CancellationToken cancellationToken)
    {
        await _acceptGate.WaitAsync(cancellationToken);
        try
        {
            GossipSubscription[] subscribers;
            lock (_gate)
            {
                if (_highestSeq.TryGetValue(candidate.Author, out double highest) && !(highest < candidate.Seq))
                {
                    Interlocked.Increment(ref _counters.DroppedOld);
                    return;
                }

                _highestSeq[candidate.Author] = candidate.Seq;
                _store.Add(candidate.Line);
                subscribers = _subscribers;
            }

            Interlocked.Increment(ref _counters.MessagesAccepted);
            var message = new GossipMessage(candidate.Author, candidate.Seq, candidate.Payload);
            Log.MessageAccepted(_logger, candidate.Author, candidate.Seq);
            if (MessageReceived is { } handlers)
            {
                // One by one, so that a throwing handler does not starve the ones after it.
                foreach (EventHandler<GossipMessage> handler in handlers.GetInvocationList().Cast<EventHandler<GossipMessage>>())
                {
                    try
                    {
                        handler(this, message);
                    }
                    catch (Exception e)
                    {
                        Log.HandlerFailed(_logger, e);
                    }
                }
            }

            foreach (GossipSubscription subscriber in subscribers)
            {
                if (!subscriber.Writer.TryWrite(message))
                {
                    try
                    {
                        await subscriber.Writer.WriteAsync(message, cancellationToken);
                    }
                    catch (ChannelClosedException)
                    {
                    }
                }
            }
        }
        finally
        {
            _acceptGate.Release();
        }
    }

    private sealed record Candidate(string Author, double Seq, byte[] Payload, byte[] Line);
}
