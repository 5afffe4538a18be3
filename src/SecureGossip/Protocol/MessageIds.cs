using System.Buffers.Binary;
using System.Security.Cryptography;

namespace SecureGossip.Protocol;

/// <summary>Message ids (docs/PROTOCOL.md §3.3).</summary>
internal static class MessageIds
{
    /// <summary>SHA-256("sg2-id" ‖ 0x00 ‖ key ‖ signature), first 128 bits (collisions need 2^64 messages).</summary>
    public static UInt128 Of(ReadOnlySpan<byte> key, ReadOnlySpan<byte> signature)
    {
        Span<byte> input = stackalloc byte[7 + 32 + 64];
        "sg2-id\0"u8.CopyTo(input);
        key.CopyTo(input[7..]);
        signature[..64].CopyTo(input[39..]);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    /// <summary>
    /// How a node under the v1 seq rule tells messages apart: the first 128 bits of the signature's R. Such a node
    /// never names a message to a peer (ids travel only in v2 frames, and a node that speaks v2 or keeps a store
    /// accepts by <see cref="Of"/>), so it needs no hash: R is fixed by the signed message, and a valid signature
    /// with a chosen R needs R's discrete logarithm, so a forger cannot make an accepted message that shadows another.
    /// </summary>
    public static UInt128 FromSignature(ReadOnlySpan<byte> signature) => BinaryPrimitives.ReadUInt128LittleEndian(signature);
}
