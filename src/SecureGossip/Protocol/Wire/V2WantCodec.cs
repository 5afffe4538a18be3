using System.Text.Json;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Protocol;

/// <summary>
/// The <c>want</c> frame (docs/PROTOCOL.md §4.2): an explicit request for messages a <c>sync</c> delta showed the
/// sender has, by id (<c>i</c>, at most <see cref="V2Frames.MaxWantIds"/>) and by author and seq (<c>s</c>,
/// <c>[author, [seq, ...]]</c>, at most <see cref="V2Frames.MaxWantSeqs"/> seqs).
/// </summary>
internal static class V2WantCodec
{
    /// <summary>Throws unless <paramref name="want"/> can be written.</summary>
    /// <exception cref="ArgumentException">An id with neither a digest nor a seq, or an author not interned.</exception>
    public static void Validate(PlumtreeWant want, V2Authors authors)
    {
        foreach (MessageId id in want.Ids)
        {
            if (!id.HasDigest && id.Sequence < 0)
            {
                throw new ArgumentException($"A want id has neither a digest nor a seq ({id}).");
            }
        }

        foreach (MessageId id in want.Ids)
        {
            if (!id.HasDigest)
            {
                V2Json.CheckAuthor(authors, id.Author);
            }
        }
    }

    /// <summary>Writes the members of a validated <c>want</c> frame.</summary>
    public static void Write(Utf8JsonWriter writer, PlumtreeWant want, V2Authors authors)
    {
        writer.WriteString("sg2"u8, "want"u8);
        writer.WriteStartArray("i"u8);
        List<(int Author, List<long> Seqs)>? bySeq = null;
        foreach (MessageId id in want.Ids)
        {
            if (id.HasDigest)
            {
                V2Json.WriteId(writer, id.Digest);
                continue;
            }

            // Ids known by seq, grouped by author in order of first appearance.
            bySeq ??= [];
            int group = bySeq.FindIndex(g => g.Author == id.Author);
            if (group < 0)
            {
                bySeq.Add((id.Author, [id.Sequence]));
            }
            else
            {
                bySeq[group].Seqs.Add(id.Sequence);
            }
        }

        writer.WriteEndArray();
        writer.WriteStartArray("s"u8);
        foreach ((int author, List<long> seqs) in bySeq ?? [])
        {
            writer.WriteStartArray();
            writer.WriteStringValue(authors.NameOf(author));
            writer.WriteStartArray();
            foreach (long seq in seqs)
            {
                writer.WriteNumberValue(seq);
            }

            writer.WriteEndArray();
            writer.WriteEndArray();
        }

        writer.WriteEndArray();
    }

    /// <summary>
    /// Reads a <c>want</c> frame: the ids of <c>i</c> (with <see cref="MessageId.UnknownAuthor"/>), then those of
    /// <c>s</c> (by author and seq).
    /// </summary>
    public static bool TryRead(in V2FrameMembers members, V2Authors authors, out IGossipFrame? frame, out string? error)
    {
        frame = null;
        if (!members.NoDuplicates("want", out error, V2Member.I, V2Member.S))
        {
            return false;
        }

        var ids = default(PooledList<MessageId>);
        try
        {
            if (!TryReadIds(members, ref ids, out error) || !TryReadSeqs(members, authors, ref ids, out error))
            {
                return false;
            }

            frame = new PlumtreeWant(ids.ToArray());
            return true;
        }
        finally
        {
            ids.Dispose();
        }
    }

    private static bool TryReadIds(in V2FrameMembers members, ref PooledList<MessageId> ids, out string? error)
    {
        error = null;
        if (members.Count(V2Member.I) == 0)
        {
            return true;
        }

        if (members.TypeOf(V2Member.I) != JsonTokenType.StartArray)
        {
            error = "want.i: not an array";
            return false;
        }

        var reader = members.Open(V2Member.I);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (ids.Count == V2Frames.MaxWantIds)
            {
                error = $"want.i: more than {V2Frames.MaxWantIds} ids";
                return false;
            }

            if (!V2Json.TryReadId(ref reader, out UInt128 digest))
            {
                error = $"want.i[{ids.Count}]: id is not 16 bytes of base64";
                return false;
            }

            ids.Add(MessageId.FromDigest(MessageId.UnknownAuthor, digest));
        }

        return true;
    }

    private static bool TryReadSeqs(in V2FrameMembers members, V2Authors authors, ref PooledList<MessageId> ids, out string? error)
    {
        error = null;
        if (members.Count(V2Member.S) == 0)
        {
            return true;
        }

        if (members.TypeOf(V2Member.S) != JsonTokenType.StartArray)
        {
            error = "want.s: not an array";
            return false;
        }

        var reader = members.Open(V2Member.S);
        int seqCount = 0;
        for (int n = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; n++)
        {
            // Each entry should name at least one seq, so the seq budget bounds the entries (and the authors one
            // frame can intern) too.
            if (n == V2Frames.MaxWantSeqs)
            {
                error = $"want.s: more than {V2Frames.MaxWantSeqs} entries";
                return false;
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                error = $"want.s[{n}]: not an [author, [seq, ...]] entry";
                return false;
            }

            reader.Read();
            if (!V2Json.TryReadAuthor(ref reader, authors, out int author))
            {
                error = $"want.s[{n}]: author is not an ed25519 key";
                return false;
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                error = $"want.s[{n}]: seqs is not an array";
                return false;
            }

            for (int k = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; k++)
            {
                if (++seqCount > V2Frames.MaxWantSeqs)
                {
                    error = $"want.s[{n}]: more than {V2Frames.MaxWantSeqs} seqs in the frame";
                    return false;
                }

                if (!V2Json.TryGetLong(ref reader, out long seq))
                {
                    error = $"want.s[{n}][{k}]: seq is not an integer >= 0";
                    return false;
                }

                ids.Add(new MessageId(author, seq));
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.EndArray)
            {
                error = $"want.s[{n}]: more than two elements";
                return false;
            }
        }

        return true;
    }
}
