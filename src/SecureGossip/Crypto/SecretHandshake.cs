using System.Security.Cryptography;

namespace SecureGossip.Crypto;

/// <summary>
/// Scuttlebutt's secret handshake (the "Scuttlebutt Protocol Guide", and the npm <c>secret-handshake</c> package it
/// describes), IO-free: each side is a small state machine that makes and checks the four messages, and at the end
/// gives the keys and nonces of the box-stream each way (<see cref="BoxStreamKeys"/>).
/// </summary>
/// <remarks>
/// <para>
/// The client (who dialled, and knows the server's ed25519 key) sends <c>hello</c>: its ephemeral curve25519 key and an
/// HMAC of it under the network key, so a node of another network (or a scanner) learns nothing and is refused at once.
/// The server answers the same way. The client then proves its long-term identity (a signature over the network key,
/// the server's key and the hash of the ephemeral secret, boxed under a key only the intended server can derive), and
/// the server proves its own (a signature over the client's proof), boxed under a key that needs both long-term keys.
/// Ephemeral keys make the session keys forward-secret; the long-term keys are the nodes' ssb-keys identities, the
/// same that sign their messages.
/// </para>
/// <para>Every check compares in constant time; a failed check is a <see cref="SecretHandshakeException"/> saying which.</para>
/// </remarks>
internal static class SecretHandshake
{
    /// <summary>Bytes of a <c>hello</c> (either side): an HMAC and an ephemeral curve25519 key.</summary>
    public const int HelloLength = 64;

    /// <summary>Bytes of the client's boxed proof of identity.</summary>
    public const int ClientAuthLength = 16 + 64 + 32;

    /// <summary>Bytes of the server's boxed acceptance.</summary>
    public const int ServerAcceptLength = 16 + 64;

    private static readonly byte[] s_zeroNonce = new byte[Sodium.NonceBytes];

    /// <summary>The client's side, for one connection.</summary>
    public sealed class Client
    {
        private readonly GossipKeys _local;
        private readonly byte[] _networkKey;
        private readonly byte[] _serverKey;
        private readonly byte[] _ephemeralSecret;
        private readonly byte[] _ephemeralPublic;
        private readonly byte[] _localMac;
        private byte[]? _serverMac;
        private byte[]? _serverEphemeral;
        private byte[]? _ab;
        private byte[]? _aB;
        private byte[]? _proof; // the client's signature and key, which the server's acceptance signs

        /// <param name="local">This node's long-term keys.</param>
        /// <param name="networkKey">The 32-byte network key.</param>
        /// <param name="serverKey">The raw 32-byte ed25519 key of the node dialled.</param>
        public Client(GossipKeys local, byte[] networkKey, byte[] serverKey)
        {
            ArgumentNullException.ThrowIfNull(local);
            CheckNetworkKey(networkKey);
            if (serverKey is not { Length: 32 })
            {
                throw new ArgumentException("The server's ed25519 key is 32 bytes.", nameof(serverKey));
            }

            _local = local;
            _networkKey = networkKey;
            _serverKey = serverKey;
            (_ephemeralSecret, _ephemeralPublic) = Sodium.NewCurve25519KeyPair();
            _localMac = Sodium.Auth(_ephemeralPublic, networkKey);
        }

        /// <summary>Message 1: the client's <c>hello</c>.</summary>
        public byte[] Hello() => Sodium.Concat(_localMac, _ephemeralPublic);

        /// <summary>Checks message 2 (the server's <c>hello</c>) and makes message 3, the client's proof of identity.</summary>
        /// <exception cref="SecretHandshakeException">The server is not on this network, or sent a bad key.</exception>
        public byte[] Authenticate(ReadOnlySpan<byte> serverHello)
        {
            (_serverMac, _serverEphemeral) = ReadHello(serverHello, _networkKey, "server");
            _ab = Agree(_ephemeralSecret, _serverEphemeral, "the server's ephemeral key");
            _aB = Agree(_ephemeralSecret, Curve(_serverKey, "the server's key"), "the server's key");
            byte[] signature = _local.SignRaw(Sodium.Concat(_networkKey, _serverKey, Sodium.Sha256(_ab)));
            _proof = Sodium.Concat(signature, _local.PublicKey.ToArray());
            return Sodium.SecretBox(_proof, s_zeroNonce, Sodium.Sha256(_networkKey, _ab, _aB));
        }

        /// <summary>Checks message 4, the server's acceptance; returns the session's keys.</summary>
        /// <exception cref="SecretHandshakeException">The server is not the node dialled (or refused this client).</exception>
        public BoxStreamKeys Finish(ReadOnlySpan<byte> serverAccept)
        {
            if (_proof is null || _ab is null || _aB is null || _serverMac is null || _serverEphemeral is null)
            {
                throw new InvalidOperationException("Authenticate comes before Finish.");
            }

            byte[] localCurveSecret = _local.Curve25519SecretKey();
            try
            {
                byte[] bigAb = Agree(localCurveSecret, _serverEphemeral, "the server's ephemeral key"); // "Ab": our long-term key, their ephemeral
                byte[] secret3 = Sodium.Sha256(_networkKey, _ab, _aB, bigAb);
                byte[]? signature = serverAccept.Length == ServerAcceptLength ? Sodium.SecretBoxOpen(serverAccept.ToArray(), s_zeroNonce, secret3) : null;
                if (signature is null || !GossipKeys.Verify(_serverKey, Sodium.Concat(_networkKey, _proof, Sodium.Sha256(_ab)), signature))
                {
                    throw new SecretHandshakeException("the server did not prove the key it was dialled with");
                }

                return BoxStreamKeys.Derive(secret3, remoteKey: _serverKey, localKey: _local.PublicKey.ToArray(), remoteMac: _serverMac, localMac: _localMac);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(localCurveSecret);
                CryptographicOperations.ZeroMemory(_ephemeralSecret);
            }
        }
    }

    /// <summary>The server's side, for one connection.</summary>
    public sealed class Server
    {
        private readonly GossipKeys _local;
        private readonly IReadOnlyList<byte[]> _networkKeys;
        private readonly byte[] _ephemeralSecret;
        private readonly byte[] _ephemeralPublic;
        private byte[]? _networkKey;
        private byte[]? _localMac;
        private byte[]? _clientMac;
        private byte[]? _clientEphemeral;

        /// <param name="local">This node's long-term keys.</param>
        /// <param name="networkKeys">The network keys it accepts (any of them; the one the client used is answered with).</param>
        public Server(GossipKeys local, IReadOnlyList<byte[]> networkKeys)
        {
            ArgumentNullException.ThrowIfNull(local);
            ArgumentNullException.ThrowIfNull(networkKeys);
            if (networkKeys.Count == 0)
            {
                throw new ArgumentException("At least one network key is needed.", nameof(networkKeys));
            }

            foreach (byte[] key in networkKeys)
            {
                CheckNetworkKey(key);
            }

            _local = local;
            _networkKeys = networkKeys;
            (_ephemeralSecret, _ephemeralPublic) = Sodium.NewCurve25519KeyPair();
        }

        /// <summary>The client's long-term ed25519 key, once <see cref="Accept"/> has checked its proof.</summary>
        public byte[]? ClientKey { get; private set; }

        /// <summary>Checks message 1 (the client's <c>hello</c>) and makes message 2, the server's.</summary>
        /// <exception cref="SecretHandshakeException">The client is not on any of this node's networks.</exception>
        public byte[] Hello(ReadOnlySpan<byte> clientHello)
        {
            foreach (byte[] key in _networkKeys)
            {
                if (TryReadHello(clientHello, key, out byte[]? mac, out byte[]? ephemeral))
                {
                    _networkKey = key;
                    _clientMac = mac;
                    _clientEphemeral = ephemeral;
                    _localMac = Sodium.Auth(_ephemeralPublic, key);
                    return Sodium.Concat(_localMac, _ephemeralPublic);
                }
            }

            throw new SecretHandshakeException("the client is not on this network (wrong network key)");
        }

        /// <summary>
        /// Checks message 3, the client's proof of identity, asks <paramref name="authorize"/> about the client's key,
        /// and makes message 4, the server's acceptance; returns it with the session's keys.
        /// </summary>
        /// <exception cref="SecretHandshakeException">The proof is not valid (not meant for this server, or forged), or
        /// <paramref name="authorize"/> refused the key.</exception>
        public (byte[] Accept, BoxStreamKeys Keys) Accept(ReadOnlySpan<byte> clientAuth, Func<byte[], bool> authorize)
        {
            ArgumentNullException.ThrowIfNull(authorize);
            if (_networkKey is null || _clientEphemeral is null || _clientMac is null || _localMac is null)
            {
                throw new InvalidOperationException("Hello comes before Accept.");
            }

            byte[] localCurveSecret = _local.Curve25519SecretKey();
            try
            {
                byte[] ab = Agree(_ephemeralSecret, _clientEphemeral, "the client's ephemeral key");
                byte[] aB = Agree(localCurveSecret, _clientEphemeral, "the client's ephemeral key");
                byte[]? proof = clientAuth.Length == ClientAuthLength ? Sodium.SecretBoxOpen(clientAuth.ToArray(), s_zeroNonce, Sodium.Sha256(_networkKey, ab, aB)) : null;
                if (proof is null)
                {
                    throw new SecretHandshakeException("the client's proof is not for this server (it dialled another key)");
                }

                byte[] signature = proof[..64];
                byte[] clientKey = proof[64..];
                if (!GossipKeys.Verify(clientKey, Sodium.Concat(_networkKey, _local.PublicKey.ToArray(), Sodium.Sha256(ab)), signature))
                {
                    throw new SecretHandshakeException("the client's signature does not verify");
                }

                if (!authorize(clientKey))
                {
                    throw new SecretHandshakeException($"the client's key @{Convert.ToBase64String(clientKey)}.ed25519 is not allowed");
                }

                byte[] bigAb = Agree(_ephemeralSecret, Curve(clientKey, "the client's key"), "the client's key"); // "Ab"
                byte[] secret3 = Sodium.Sha256(_networkKey, ab, aB, bigAb);
                byte[] acceptance = Sodium.SecretBox(_local.SignRaw(Sodium.Concat(_networkKey, proof, Sodium.Sha256(ab))), s_zeroNonce, secret3);
                ClientKey = clientKey;
                BoxStreamKeys keys = BoxStreamKeys.Derive(secret3, remoteKey: clientKey, localKey: _local.PublicKey.ToArray(), remoteMac: _clientMac, localMac: _localMac);
                return (acceptance, keys);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(localCurveSecret);
                CryptographicOperations.ZeroMemory(_ephemeralSecret);
            }
        }
    }

    private static void CheckNetworkKey(byte[] networkKey)
    {
        if (networkKey is not { Length: 32 })
        {
            throw new ArgumentException("A network key is 32 bytes.", nameof(networkKey));
        }
    }

    private static (byte[] Mac, byte[] Ephemeral) ReadHello(ReadOnlySpan<byte> hello, byte[] networkKey, string who) =>
        TryReadHello(hello, networkKey, out byte[]? mac, out byte[]? ephemeral)
            ? (mac!, ephemeral!)
            : throw new SecretHandshakeException($"the {who} is not on this network (wrong network key)");

    private static bool TryReadHello(ReadOnlySpan<byte> hello, byte[] networkKey, out byte[]? mac, out byte[]? ephemeral)
    {
        mac = null;
        ephemeral = null;
        if (hello.Length != HelloLength)
        {
            return false;
        }

        byte[] theirMac = hello[..32].ToArray();
        byte[] theirKey = hello[32..].ToArray();
        if (!Sodium.AuthVerify(theirKey, theirMac, networkKey))
        {
            return false;
        }

        mac = theirMac;
        ephemeral = theirKey;
        return true;
    }

    private static byte[] Agree(byte[] secret, byte[] publicKey, string what)
    {
        try
        {
            return Sodium.ScalarMult(secret, publicKey);
        }
        catch (CryptographicException e)
        {
            throw new SecretHandshakeException($"{what} is not usable ({e.Message})");
        }
    }

    private static byte[] Curve(byte[] ed25519Key, string what)
    {
        try
        {
            return Sodium.Curve25519PublicKey(ed25519Key);
        }
        catch (CryptographicException)
        {
            throw new SecretHandshakeException($"{what} is not an ed25519 key");
        }
    }
}

/// <summary>The keys and first nonces of a session's two box-streams, as the handshake derived them.</summary>
/// <param name="EncryptKey">Key of what this side sends.</param>
/// <param name="EncryptNonce">First nonce of what this side sends.</param>
/// <param name="DecryptKey">Key of what the other side sends.</param>
/// <param name="DecryptNonce">First nonce of what the other side sends.</param>
/// <param name="RemoteKey">The other side's long-term ed25519 key, as proven in the handshake.</param>
internal sealed record BoxStreamKeys(byte[] EncryptKey, byte[] EncryptNonce, byte[] DecryptKey, byte[] DecryptNonce, byte[] RemoteKey)
{
    /// <summary>
    /// The session's keys from the handshake's final secret: each direction's key is a hash of the (hashed) secret and
    /// the receiver's long-term key, its first nonce the receiver's <c>hello</c> HMAC cut to 24 bytes.
    /// </summary>
    public static BoxStreamKeys Derive(byte[] secret3, byte[] remoteKey, byte[] localKey, byte[] remoteMac, byte[] localMac)
    {
        byte[] secret = Sodium.Sha256(secret3);
        try
        {
            return new BoxStreamKeys(
                EncryptKey: Sodium.Sha256(secret, remoteKey),
                EncryptNonce: remoteMac[..Sodium.NonceBytes],
                DecryptKey: Sodium.Sha256(secret, localKey),
                DecryptNonce: localMac[..Sodium.NonceBytes],
                RemoteKey: remoteKey);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
            CryptographicOperations.ZeroMemory(secret3);
        }
    }
}

/// <summary>A secret handshake failed: the peer is not on this network, not who it was dialled as, or not allowed.</summary>
public sealed class SecretHandshakeException : Exception
{
    /// <summary>Creates the exception with the reason, which is logged as the link's refusal.</summary>
    public SecretHandshakeException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with no reason.</summary>
    public SecretHandshakeException()
    {
    }

    /// <summary>Creates the exception with the reason and its cause.</summary>
    public SecretHandshakeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
