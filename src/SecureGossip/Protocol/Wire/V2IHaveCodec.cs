using System.Text.Json;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Protocol;

/// <summary>
/// The <c>ihave</c> frame (docs/PROTOCOL.md §4.2): lazy-push announcements, <c>"i":[[id, h], ...]</c>, each id with
/// the hop count the receiver would get; at most <see cref="V2Frames.MaxIHaveIds"/> in one frame.
/// </summary>
internal static class V2IHaveCodec
{
    /// <summary>Throws unless <paramref name="ihave"/> can be written.</summary>
    /// <exception cref="ArgumentException">Not one hop count per id, or an id without a digest.</exception>
    public static void Validate(PlumtreeIHave ihave)
    {
        if (ihave.Ids.Length != ihave.Hops.Length)
        {
            throw new ArgumentException("PlumtreeIHave needs one hop count per id.");
        }

        foreach (MessageId id in ihave.Ids)
        {
            V2Json.CheckId(id.Digest, "ihave.Ids");
        }
    }

    /// <summary>Writes the members of a validated <c>ihave</c> frame.</summary>
    public static void Write(Utf8JsonWriter writer, PlumtreeIHave ihave)
    {
        writer.WriteString("sg2"u8, "ihave"u8);
        writer.WriteStartArray("i"u8);
        for (int i = 0; i < ihave.Ids.Length; i++)
        {
            writer.WriteStartArray();
            V2Json.WriteId(writer, ihave.Ids[i].Digest);
            writer.WriteNumberValue(Math.Clamp(ihave.Hops[i], 0, V2Frames.MaxHops));
            writer.WriteEndArray();
        }

        writer.WriteEndArray();
    }

    /// <summary>Reads an <c>ihave</c> frame; its ids have <see cref="MessageId.UnknownAuthor"/>.</summary>
    public static bool TryRead(in V2FrameMembers members, out IGossipFrame? frame, out string? error)
    {
        frame = null;
        if (!members.NoDuplicates("ihave", out error, V2Member.I))
        {
            return false;
        }

        if (members.Count(V2Member.I) == 0 || members.TypeOf(V2Member.I) != JsonTokenType.StartArray)
        {
            error = members.Count(V2Member.I) == 0 ? "ihave.i: missing" : "ihave.i: not an array";
            return false;
        }

        // An entry takes at least 30 bytes (["<24 characters>",0]), so the lists are sized once from the text.
        int capacity = Math.Min((members.Raw(V2Member.I).Length / 30) + 1, V2Frames.MaxIHaveIds);
        var reader = members.Open(V2Member.I);
        var ids = new PooledList<MessageId>(capacity);
        var hops = new PooledList<int>(capacity);
        try
        {
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                int n = ids.Count;
                if (n == V2Frames.MaxIHaveIds)
                {
                    error = $"ihave.i: more than {V2Frames.MaxIHaveIds} entries";
                    return false;
                }

                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    error = $"ihave.i[{n}]: not an [id, h] pair";
                    return false;
                }

                reader.Read();
                if (!V2Json.TryReadId(ref reader, out UInt128 digest))
                {
                    error = $"ihave.i[{n}]: id is not 16 bytes of base64";
                    return false;
                }

                reader.Read();
                if (!V2Json.TryGetInt(ref reader, 0, V2Frames.MaxHops, out int h))
                {
                    error = $"ihave.i[{n}]: h is not an integer 0..{V2Frames.MaxHops}";
                    return false;
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.EndArray)
                {
                    error = $"ihave.i[{n}]: more than two elements";
                    return false;
                }

                ids.Add(MessageId.FromDigest(MessageId.UnknownAuthor, digest));
                hops.Add(h);
            }

            frame = new PlumtreeIHave(ids.ToArray(), hops.ToArray());
            return true;
        }
        finally
        {
            ids.Dispose();
            hops.Dispose();
        }
    }
}
