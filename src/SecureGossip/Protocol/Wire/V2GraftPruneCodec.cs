using System.Text.Json;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Protocol;

/// <summary>
/// The tree-repair frames (docs/PROTOCOL.md §4.2): <c>graft</c> asks for a message (<c>i</c>, a repair) or for an
/// author's eager push (<c>a</c>, an optimisation); <c>prune</c> stops an author's eager push (<c>a</c>, with
/// <c>o</c> for an optimisation); with <c>r</c> both name a rooted tree by its root (<c>a</c>), and <c>tree</c> is that
/// tree's beacon (<c>a</c> its root, <c>h</c> the receiver's depth), §8.8.
/// </summary>
internal static class V2GraftPruneCodec
{
    /// <summary>Throws unless <paramref name="graft"/> can be written.</summary>
    /// <exception cref="ArgumentException">A repair id without a digest, or an author not interned.</exception>
    public static void Validate(PlumtreeGraft graft, V2Authors authors)
    {
        if (graft.Id is { } id)
        {
            V2Json.CheckId(id.Digest, "graft.Id");
        }
        else
        {
            V2Json.CheckAuthor(authors, graft.Author);
        }
    }

    /// <summary>Throws unless <paramref name="prune"/> can be written.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The author was not interned.</exception>
    public static void Validate(PlumtreePrune prune, V2Authors authors) => V2Json.CheckAuthor(authors, prune.Author);

    /// <summary>Throws unless <paramref name="beacon"/> can be written.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The root was not interned, or the hops are not 1..<see cref="V2Frames.MaxHops"/>.</exception>
    public static void Validate(PlumtreeBeacon beacon, V2Authors authors)
    {
        V2Json.CheckAuthor(authors, beacon.Root);
        ArgumentOutOfRangeException.ThrowIfLessThan(beacon.Hops, 1);
    }

    /// <summary>Writes the members of a validated <c>tree</c> frame.</summary>
    public static void Write(Utf8JsonWriter writer, PlumtreeBeacon beacon, V2Authors authors)
    {
        writer.WriteString("sg2"u8, "tree"u8);
        writer.WriteString("a"u8, authors.NameOf(beacon.Root));
        writer.WriteNumber("h"u8, Math.Min(beacon.Hops, V2Frames.MaxHops));
    }

    /// <summary>Reads a <c>tree</c> frame.</summary>
    public static bool TryReadTree(in V2FrameMembers members, V2Authors authors, out IGossipFrame? frame, out string? error)
    {
        frame = null;
        if (!members.NoDuplicates("tree", out error, V2Member.A, V2Member.H))
        {
            return false;
        }

        if (members.Count(V2Member.A) == 0 || members.Count(V2Member.H) == 0)
        {
            error = members.Count(V2Member.A) == 0 ? "tree.a: missing" : "tree.h: missing";
            return false;
        }

        if (!members.TryReadOptionalInt(V2Member.H, 1, V2Frames.MaxHops, "tree", out int hops, out error)
            || !members.TryReadAuthor(V2Member.A, authors, "tree", out int root, out error))
        {
            return false;
        }

        frame = new PlumtreeBeacon(root, hops);
        return true;
    }

    /// <summary>Writes the members of a validated <c>graft</c> frame.</summary>
    public static void Write(Utf8JsonWriter writer, PlumtreeGraft graft, V2Authors authors)
    {
        writer.WriteString("sg2"u8, "graft"u8);
        if (graft.Id is { } id)
        {
            writer.WritePropertyName("i"u8);
            V2Json.WriteId(writer, id.Digest);
        }
        else
        {
            writer.WriteString("a"u8, authors.NameOf(graft.Author));
            if (graft.Rooted)
            {
                writer.WriteNumber("r"u8, 1);
            }
        }
    }

    /// <summary>Writes the members of a validated <c>prune</c> frame.</summary>
    public static void Write(Utf8JsonWriter writer, PlumtreePrune prune, V2Authors authors)
    {
        writer.WriteString("sg2"u8, "prune"u8);
        writer.WriteString("a"u8, authors.NameOf(prune.Author));
        if (prune.Optimisation)
        {
            writer.WriteNumber("o"u8, 1);
        }

        if (prune.Rooted)
        {
            writer.WriteNumber("r"u8, 1);
        }
    }

    /// <summary>Reads a <c>graft</c> frame; a repair id has <see cref="MessageId.UnknownAuthor"/>.</summary>
    public static bool TryReadGraft(in V2FrameMembers members, V2Authors authors, out IGossipFrame? frame, out string? error)
    {
        frame = null;
        if (!members.NoDuplicates("graft", out error, V2Member.I, V2Member.A, V2Member.R))
        {
            return false;
        }

        if (members.Count(V2Member.I) > 0)
        {
            // A repair graft; an a beside it means nothing and is ignored.
            var reader = members.Open(V2Member.I);
            if (!V2Json.TryReadId(ref reader, out UInt128 digest))
            {
                error = "graft.i: id is not 16 bytes of base64";
                return false;
            }

            frame = new PlumtreeGraft(MessageId.FromDigest(MessageId.UnknownAuthor, digest), MessageId.UnknownAuthor);
            return true;
        }

        if (members.Count(V2Member.A) == 0)
        {
            error = "graft: neither i nor a";
            return false;
        }

        if (!members.TryReadFlag(V2Member.R, "graft", out bool rooted, out error)
            || !members.TryReadAuthor(V2Member.A, authors, "graft", out int author, out error))
        {
            return false;
        }

        frame = new PlumtreeGraft(null, author) { Rooted = rooted };
        return true;
    }

    /// <summary>Reads a <c>prune</c> frame.</summary>
    public static bool TryReadPrune(in V2FrameMembers members, V2Authors authors, out IGossipFrame? frame, out string? error)
    {
        frame = null;
        if (!members.NoDuplicates("prune", out error, V2Member.A, V2Member.O, V2Member.R))
        {
            return false;
        }

        if (members.Count(V2Member.A) == 0)
        {
            error = "prune.a: missing";
            return false;
        }

        if (!members.TryReadFlag(V2Member.O, "prune", out bool optimisation, out error)
            || !members.TryReadFlag(V2Member.R, "prune", out bool rooted, out error)
            || !members.TryReadAuthor(V2Member.A, authors, "prune", out int author, out error))
        {
            return false;
        }

        frame = new PlumtreePrune(author, optimisation) { Rooted = rooted };
        return true;
    }
}
