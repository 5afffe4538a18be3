using System.Buffers;
using System.IO.Pipelines;
using SecureGossip.Crypto;

namespace SecureGossip.Transports;

/// <summary>
/// Private networks: the secret handshake and box-stream of Scuttlebutt (interoperable with the npm
/// <c>secret-handshake</c> and <c>pull-box-stream</c> packages) as a <see cref="GossipConnectionMiddleware"/>. Every
/// connection that passes it has proven both ends' long-term keys and a shared network key, and carries everything
/// after the handshake encrypted and authenticated, with forward secrecy.
/// </summary>
public static class SecretHandshakeMiddleware
{
    /// <summary>
    /// The step for a node with <paramref name="keys"/>: inbound connections answer as the server (any of the network
    /// keys is accepted; a client outside <see cref="PrivateNetworkOptions.Allow"/>, when given, is refused), and
    /// outbound ones dial as the client with the first network key and the peer's key from
    /// <see cref="GossipConnection.PeerKey"/> (a dialled connection without one is refused: there is nothing to prove).
    /// </summary>
    /// <exception cref="ArgumentException">No network key, or one that is not 32 bytes, or an allowed key that is not an ed25519 key.</exception>
    public static GossipConnectionMiddleware Create(GossipKeys keys, PrivateNetworkOptions options)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(options);
        byte[][] networkKeys = [.. options.NetworkKeys];
        if (networkKeys.Length == 0 || networkKeys.Any(k => k is not { Length: 32 }))
        {
            throw new ArgumentException("A private network needs one or more 32-byte network keys.", nameof(options));
        }

        HashSet<string>? allowed = options.Allow is null ? null : [.. options.Allow.Select(a => Convert.ToBase64String(ParseKey(a)))];
        bool Authorize(byte[] clientKey) => allowed is null || allowed.Contains(Convert.ToBase64String(clientKey));

        return async (connection, cancellationToken) =>
        {
            BoxStreamKeys sessionKeys;
            if (connection.Direction == GossipConnectionDirection.Outbound)
            {
                if (connection.PeerKey is null && options.AllowPlain)
                {
                    return connection; // an address without a key: a plain link (a JS 0.3.1 peer)
                }

                byte[] serverKey = connection.PeerKey
                    ?? throw new SecretHandshakeException("a dialled connection of a private network needs the peer's key (@KEY.ed25519@HOST:PORT)");
                var client = new SecretHandshake.Client(keys, networkKeys[0], serverKey);
                await WriteAsync(connection.Output, client.Hello(), cancellationToken);
                byte[] serverHello = await ReadExactlyAsync(connection.Input, SecretHandshake.HelloLength, cancellationToken);
                await WriteAsync(connection.Output, client.Authenticate(serverHello), cancellationToken);
                byte[] accept = await ReadExactlyAsync(connection.Input, SecretHandshake.ServerAcceptLength, cancellationToken);
                sessionKeys = client.Finish(accept);
            }
            else
            {
                if (options.AllowPlain && await LooksPlainAsync(connection.Input, options.PlainWait, cancellationToken))
                {
                    return connection; // a JS 0.3.1 peer: its lines (or its silence) where a hello belongs
                }

                var server = new SecretHandshake.Server(keys, networkKeys);
                byte[] clientHello = await ReadExactlyAsync(connection.Input, SecretHandshake.HelloLength, cancellationToken);
                await WriteAsync(connection.Output, server.Hello(clientHello), cancellationToken);
                byte[] auth = await ReadExactlyAsync(connection.Input, SecretHandshake.ClientAuthLength, cancellationToken);
                (byte[] acceptance, sessionKeys) = server.Accept(auth, Authorize);
                await WriteAsync(connection.Output, acceptance, cancellationToken);
            }

            return new BoxStreamConnection(connection, sessionKeys);
        };
    }

    /// <summary>The raw 32 bytes of <c>@KEY.ed25519</c> (or <c>KEY.ed25519</c>, or the bare base64).</summary>
    /// <exception cref="ArgumentException">It is not an ed25519 key.</exception>
    public static byte[] ParseKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        string text = key.StartsWith('@') ? key[1..] : key;
        if (text.EndsWith(".ed25519", StringComparison.Ordinal))
        {
            text = text[..^".ed25519".Length];
        }

        byte[] raw = new byte[33];
        if (!Convert.TryFromBase64String(text, raw, out int written) || written != 32)
        {
            throw new ArgumentException($"Not an ed25519 public key: \"{key}\" (expected @<base64 of 32 bytes>.ed25519).", nameof(key));
        }

        return raw[..32];
    }

    /// <summary>
    /// Whether an inbound connection is a plain gossip peer rather than a handshake: it says nothing within
    /// <paramref name="wait"/> (a JS 0.3.1 peer with nothing to gossip yet waits for us), or its first bytes are a JSON
    /// line (<c>{</c> and text), which a handshake's hello (64 random bytes) is not but once in millions. Nothing is
    /// consumed.
    /// </summary>
    private static async ValueTask<bool> LooksPlainAsync(PipeReader input, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var quiet = new CancellationTokenSource(wait);
        using CancellationTokenRegistration waking = quiet.Token.UnsafeRegister(static s => ((PipeReader)s!).CancelPendingRead(), input);
        byte[] head = new byte[SecretHandshake.HelloLength];
        while (true)
        {
            ReadResult read = await input.ReadAsync(cancellationToken);
            ReadOnlySequence<byte> buffer = read.Buffer;
            if (buffer.IsEmpty)
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCanceled && quiet.IsCancellationRequested)
                {
                    return true; // silent: a plain peer waiting for us to speak
                }

                if (read.IsCompleted)
                {
                    throw new SecretHandshakeException("the connection closed before it said anything");
                }

                continue;
            }

            int look = (int)Math.Min(buffer.Length, head.Length);
            buffer.Slice(0, look).CopyTo(head);
            bool? plain = Classify(head.AsSpan(0, look));
            if (plain.HasValue || read.IsCompleted || quiet.IsCancellationRequested)
            {
                input.AdvanceTo(buffer.Start); // nothing consumed: the protocol or the handshake reads these bytes again
                return plain ?? true;
            }

            input.AdvanceTo(buffer.Start, buffer.End); // a short prefix of text: wait for more
        }
    }

    /// <summary>Plain (a JSON line's start), not plain (a hello), or null: too few bytes to tell.</summary>
    private static bool? Classify(ReadOnlySpan<byte> head)
    {
        if (head[0] != (byte)'{')
        {
            return false;
        }

        foreach (byte b in head)
        {
            if (b is (< 0x20 and not ((byte)'\t' or (byte)'\n' or (byte)'\r')) or 0x7F)
            {
                return false;
            }
        }

        return head.Length == SecretHandshake.HelloLength || head.Contains((byte)'\n') ? true : null;
    }

    private static async ValueTask WriteAsync(PipeWriter output, byte[] bytes, CancellationToken cancellationToken)
    {
        FlushResult flushed = await output.WriteAsync(bytes, cancellationToken);
        if (flushed.IsCompleted || flushed.IsCanceled)
        {
            throw new SecretHandshakeException("the connection closed during the handshake");
        }
    }

    private static async ValueTask<byte[]> ReadExactlyAsync(PipeReader input, int length, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult read = await input.ReadAsync(cancellationToken);
            ReadOnlySequence<byte> buffer = read.Buffer;
            if (buffer.Length >= length)
            {
                byte[] message = buffer.Slice(0, length).ToArray();
                input.AdvanceTo(buffer.GetPosition(length));
                return message;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted || read.IsCanceled)
            {
                throw new SecretHandshakeException($"the connection closed during the handshake ({buffer.Length} of {length} bytes read)");
            }
        }
    }
}

/// <summary>A private network: the keys that admit a node to it, and optionally which nodes are admitted.</summary>
public sealed class PrivateNetworkOptions
{
    /// <summary>
    /// The 32-byte network keys: a peer must know one of them. Connections this node dials use the first; inbound ones
    /// may use any (so a network can move to a new key: add it first everywhere, then drop the old one).
    /// </summary>
    public required IReadOnlyList<byte[]> NetworkKeys { get; init; }

    /// <summary>When set, only these peers' keys (<c>@KEY.ed25519</c>) are accepted on inbound connections.</summary>
    public IReadOnlyCollection<string>? Allow { get; init; }

    /// <summary>
    /// Also accept plain links (off by default): an inbound connection whose first bytes are a JSON line, or that says
    /// nothing for <see cref="PlainWait"/>, runs unencrypted, and a dialled connection without
    /// <see cref="GossipConnection.PeerKey"/> is dialled plain. For JS 0.3.1 peers, which cannot speak the handshake;
    /// such a link is not authenticated, so a private network that allows it is only as private as its plain peers.
    /// </summary>
    public bool AllowPlain { get; init; }

    /// <summary>How long an inbound connection may stay silent before it is taken as a plain peer, when <see cref="AllowPlain"/>: 2 s.</summary>
    public TimeSpan PlainWait { get; init; } = TimeSpan.FromSeconds(2);
}
