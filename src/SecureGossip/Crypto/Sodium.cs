using System.Security.Cryptography;

namespace SecureGossip.Crypto;

/// <summary>
/// The libsodium primitives the secret handshake and box-stream need beyond what NSec exposes (XSalsa20-Poly1305
/// secretbox, Curve25519 scalar multiplication, the ed25519-to-curve25519 key conversions, HMAC-SHA-512-256), through
/// the Sodium.Core binding to the same native libsodium NSec loads. Each wrapper checks its lengths and says which.
/// </summary>
internal static class Sodium
{
    public const int KeyBytes = 32;
    public const int NonceBytes = 24;
    public const int MacBytes = 16;

    /// <summary>HMAC-SHA-512-256 (<c>crypto_auth</c>) of <paramref name="message"/> under the 32-byte <paramref name="key"/>.</summary>
    public static byte[] Auth(byte[] message, byte[] key) => global::Sodium.SecretKeyAuth.Sign(message, key);

    /// <summary>Whether <paramref name="mac"/> is the <c>crypto_auth</c> of <paramref name="message"/> under <paramref name="key"/> (constant time).</summary>
    public static bool AuthVerify(byte[] message, byte[] mac, byte[] key) => global::Sodium.SecretKeyAuth.Verify(message, mac, key);

    /// <summary>X25519: <paramref name="secret"/> times <paramref name="publicKey"/>.</summary>
    /// <exception cref="CryptographicException">The result is the all-zero point (a low-order public key).</exception>
    public static byte[] ScalarMult(byte[] secret, byte[] publicKey)
    {
        byte[] shared = global::Sodium.ScalarMult.Mult(secret, publicKey);
        if (CryptographicOperations.FixedTimeEquals(shared, new byte[shared.Length]))
        {
            throw new CryptographicException("The peer's curve25519 key is of low order.");
        }

        return shared;
    }

    /// <summary>The curve25519 public key of an ed25519 public key.</summary>
    /// <exception cref="CryptographicException">The bytes are not a valid ed25519 point.</exception>
    public static byte[] Curve25519PublicKey(byte[] ed25519PublicKey)
    {
        try
        {
            return global::Sodium.PublicKeyAuth.ConvertEd25519PublicKeyToCurve25519PublicKey(ed25519PublicKey);
        }
        catch (Exception e) when (e is not CryptographicException)
        {
            throw new CryptographicException("Not an ed25519 public key.", e);
        }
    }

    /// <summary>The curve25519 secret key of an ed25519 key pair given as its 64-byte secret (seed and public key).</summary>
    public static byte[] Curve25519SecretKey(byte[] ed25519SecretKey) =>
        global::Sodium.PublicKeyAuth.ConvertEd25519SecretKeyToCurve25519SecretKey(ed25519SecretKey);

    /// <summary>A fresh curve25519 key pair (secret, public).</summary>
    public static (byte[] Secret, byte[] Public) NewCurve25519KeyPair()
    {
        byte[] secret = RandomNumberGenerator.GetBytes(32);
        return (secret, global::Sodium.ScalarMult.Base(secret));
    }

    /// <summary>XSalsa20-Poly1305 (<c>crypto_secretbox_easy</c>): the tag followed by the ciphertext.</summary>
    public static byte[] SecretBox(byte[] message, byte[] nonce, byte[] key) => global::Sodium.SecretBox.Create(message, nonce, key);

    /// <summary>Opens a <see cref="SecretBox"/>; null when it was not made with this key and nonce, or was changed.</summary>
    public static byte[]? SecretBoxOpen(byte[] boxed, byte[] nonce, byte[] key)
    {
        if (boxed.Length < MacBytes)
        {
            return null;
        }

        try
        {
            return global::Sodium.SecretBox.Open(boxed, nonce, key);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>SHA-256 of the parts, one after another.</summary>
    public static byte[] Sha256(params ReadOnlySpan<byte[]> parts)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (byte[] part in parts)
        {
            hash.AppendData(part);
        }

        return hash.GetHashAndReset();
    }

    /// <summary>The parts, one after another, in a new array.</summary>
    public static byte[] Concat(params ReadOnlySpan<byte[]> parts)
    {
        int length = 0;
        foreach (byte[] part in parts)
        {
            length += part.Length;
        }

        byte[] all = new byte[length];
        int at = 0;
        foreach (byte[] part in parts)
        {
            part.CopyTo(all, at);
            at += part.Length;
        }

        return all;
    }
}
