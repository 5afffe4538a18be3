using System.Text.Json;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Protocol;

/// <summary>
/// The <c>sync</c> frame (docs/PROTOCOL.md §4.2): a frontier, full (<c>full</c>, the last frame of it with <c>end</c>)
/// or a delta. Authors tracked by seq go in <c>s</c> as <c>[author, floor, [seq, ...]]</c>, authors tracked by digest
/// in <c>l</c> as <c>[author, [id, ...]]</c>; at most <see cref="V2Frames.MaxSyncEntries"/> entries and
/// <see cref="V2Frames.MaxSyncItems"/> seqs and ids in one frame.
/// </summary>
internal static class V2SyncCodec
{
    /// <summary>Throws unless <paramref name="sync"/> can be written (checked in the order it is written).</summary>
    /// <exception cref="ArgumentException">An author not interned, or a digest entry holding a zero digest.</exception>
    public static void Validate(PlumtreeSync sync, V2Authors authors)
    {
        foreach (PlumtreeFrontierEntry entry in sync.Entries)
        {
            if (entry.Digests is null)
            {
                V2Json.CheckAuthor(authors, entry.Author);
            }
        }

        foreach (PlumtreeFrontierEntry entry in sync.Entries)
        {
            if (entry.Digests is { } digests)
            {
                V2Json.CheckAuthor(authors, entry.Author);
                foreach (UInt128 digest in digests)
                {
                    V2Json.CheckId(digest, "PlumtreeFrontierEntry.Digests");
                }
            }
        }
    }

    /// <summary>Writes the members of a validated <c>sync</c> frame.</summary>
    public static void Write(Utf8JsonWriter writer, PlumtreeSync sync, V2Authors authors)
    {
        writer.WriteString("sg2"u8, "sync"u8);
        if (sync.Full)
        {
            writer.WriteNumber("full"u8, 1);
            if (sync.End)
            {
                writer.WriteNumber("end"u8, 1);
            }
        }

        writer.WriteStartArray("s"u8);
        foreach (PlumtreeFrontierEntry entry in sync.Entries)
        {
            if (entry.Digests is null)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(authors.NameOf(entry.Author));
                writer.WriteNumberValue(entry.Floor);
                writer.WriteStartArray();
                foreach (long seq in entry.Above)
                {
                    writer.WriteNumberValue(seq);
                }

                writer.WriteEndArray();
                writer.WriteEndArray();
            }
        }

        writer.WriteEndArray();
        writer.WriteStartArray("l"u8);
        foreach (PlumtreeFrontierEntry entry in sync.Entries)
        {
            if (entry.Digests is { } digests)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(authors.NameOf(entry.Author));
                writer.WriteStartArray();
                foreach (UInt128 digest in digests)
                {
                    V2Json.WriteId(writer, digest);
                }

                writer.WriteEndArray();
                writer.WriteEndArray();
            }
        }

        writer.WriteEndArray();
    }

    /// <summary>Reads a <c>sync</c> frame: its seq entries (<c>s</c>) first, then its digest entries (<c>l</c>).</summary>
    public static bool TryRead(in V2FrameMembers members, V2Authors authors, out IGossipFrame? frame, out string? error)
    {
        frame = null;
        if (!members.NoDuplicates("sync", out error, V2Member.Full, V2Member.End, V2Member.S, V2Member.L)
            || !members.TryReadFlag(V2Member.Full, "sync", out bool full, out error)
            || !members.TryReadFlag(V2Member.End, "sync", out bool end, out error))
        {
            return false;
        }

        var entries = default(PooledList<PlumtreeFrontierEntry>);
        var seqs = default(PooledList<long>);
        var digests = default(PooledList<UInt128>);
        try
        {
            int items = 0;
            if (!TryReadSeqEntries(members, authors, ref entries, ref seqs, ref items, out error)
                || !TryReadDigestEntries(members, authors, ref entries, ref digests, ref items, out error))
            {
                return false;
            }

            // A delta is always its own last frame; a full exchange ends at the frame marked end.
            frame = new PlumtreeSync(full, entries.ToArray()) { End = !full || end };
            return true;
        }
        finally
        {
            entries.Dispose();
            seqs.Dispose();
            digests.Dispose();
        }
    }

    private static bool TryReadSeqEntries(
        in V2FrameMembers members, V2Authors authors, ref PooledList<PlumtreeFrontierEntry> entries, ref PooledList<long> seqs, ref int items, out string? error)
    {
        error = null;
        if (members.Count(V2Member.S) == 0)
        {
            return true;
        }

        if (members.TypeOf(V2Member.S) != JsonTokenType.StartArray)
        {
            error = "sync.s: not an array";
            return false;
        }

        var reader = members.Open(V2Member.S);
        for (int n = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; n++)
        {
            if (entries.Count == V2Frames.MaxSyncEntries)
            {
                error = $"sync.s: more than {V2Frames.MaxSyncEntries} entries in the frame";
                return false;
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                error = $"sync.s[{n}]: not an [author, floor, [seq, ...]] entry";
                return false;
            }

            reader.Read();
            if (!V2Json.TryReadAuthor(ref reader, authors, out int author))
            {
                error = $"sync.s[{n}]: author is not an ed25519 key";
                return false;
            }

            reader.Read();
            if (!V2Json.TryGetLong(ref reader, out long floor))
            {
                error = $"sync.s[{n}]: floor is not an integer >= 0";
                return false;
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                error = $"sync.s[{n}]: seqs is not an array";
                return false;
            }

            seqs.Clear();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (++items > V2Frames.MaxSyncItems)
                {
                    error = $"sync.s[{n}]: more than {V2Frames.MaxSyncItems} seqs and ids in the frame";
                    return false;
                }

                if (!V2Json.TryGetLong(ref reader, out long seq))
                {
                    error = $"sync.s[{n}][{seqs.Count}]: seq is not an integer >= 0";
                    return false;
                }

                seqs.Add(seq);
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.EndArray)
            {
                error = $"sync.s[{n}]: more than three elements";
                return false;
            }

            entries.Add(new PlumtreeFrontierEntry(author, floor, seqs.ToArray()));
        }

        return true;
    }

    private static bool TryReadDigestEntries(
        in V2FrameMembers members, V2Authors authors, ref PooledList<PlumtreeFrontierEntry> entries, ref PooledList<UInt128> digests, ref int items, out string? error)
    {
        error = null;
        if (members.Count(V2Member.L) == 0)
        {
            return true;
        }

        if (members.TypeOf(V2Member.L) != JsonTokenType.StartArray)
        {
            error = "sync.l: not an array";
            return false;
        }

        var reader = members.Open(V2Member.L);
        for (int n = 0; reader.Read() && reader.TokenType != JsonTokenType.EndArray; n++)
        {
            if (entries.Count == V2Frames.MaxSyncEntries)
            {
                error = $"sync.l: more than {V2Frames.MaxSyncEntries} entries in the frame";
                return false;
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                error = $"sync.l[{n}]: not an [author, [id, ...]] entry";
                return false;
            }

            reader.Read();
            if (!V2Json.TryReadAuthor(ref reader, authors, out int author))
            {
                error = $"sync.l[{n}]: author is not an ed25519 key";
                return false;
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                error = $"sync.l[{n}]: ids is not an array";
                return false;
            }

            digests.Clear();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (++items > V2Frames.MaxSyncItems)
                {
                    error = $"sync.l[{n}]: more than {V2Frames.MaxSyncItems} seqs and ids in the frame";
                    return false;
                }

                if (!V2Json.TryReadId(ref reader, out UInt128 digest))
                {
                    error = $"sync.l[{n}][{digests.Count}]: id is not 16 bytes of base64";
                    return false;
                }

                digests.Add(digest);
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.EndArray)
            {
                error = $"sync.l[{n}]: more than two elements";
                return false;
            }

            entries.Add(PlumtreeFrontierEntry.ForDigests(author, digests.ToArray()));
        }

        return true;
    }
}
