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
}
