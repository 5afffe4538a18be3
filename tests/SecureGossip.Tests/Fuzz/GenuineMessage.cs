using System.Buffers.Binary;
using System.Security.Cryptography;

namespace SecureGossip.Tests.Fuzz;

/// <summary>One message a test key really signed, with everything the oracles need to recognise it.</summary>
internal sealed class GenuineMessage
{
    public required int Author { get; init; }

    public required byte[] Key { get; init; }

    /// <summary>The payload tree (the data object without its signature).</summary>
    public required FuzzJson Payload { get; init; }

    /// <summary>The bytes signed: JSON.stringify(payload, null, 2), computed by the model.</summary>
    public required byte[] Signed { get; init; }

    /// <summary>The payload the application must see: compact, without <c>$sg</c> when the seq is signed.</summary>
    public required byte[] Delivered { get; init; }

    public required byte[] Signature { get; init; }

    public required string SignatureText { get; init; }

    public required string PublicText { get; init; }

    public required long Seq { get; init; }

    public long? SignedSeq { get; init; }

    /// <summary>docs/PROTOCOL.md §3.3: SHA-256("sg2-id" ‖ 0 ‖ key ‖ signature), first 128 bits, little-endian.</summary>
    public UInt128 Id => IdOf(Key, Signature);

    /// <summary>The envelope tree: <c>{"data":{…payload, "signature"}, "public", "seq"}</c>.</summary>
    public FuzzJson Envelope()
    {
        FuzzJson data = Payload.Clone();
        data.Members.Add(FuzzJson.Member("signature", FuzzJson.String(SignatureText)));
        return FuzzJson.Object(
            FuzzJson.Member("data", data),
            FuzzJson.Member("public", FuzzJson.String(PublicText)),
            FuzzJson.Member("seq", FuzzJson.Integer(Seq)));
    }

    public static UInt128 IdOf(ReadOnlySpan<byte> key, ReadOnlySpan<byte> signature)
    {
        byte[] input = [.. "sg2-id\0"u8, .. key, .. signature];
        return BinaryPrimitives.ReadUInt128LittleEndian(SHA256.HashData(input));
    }
}
