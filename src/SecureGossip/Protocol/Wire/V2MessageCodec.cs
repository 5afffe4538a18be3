using System.Text.Json;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Protocol;

/// <summary>
/// The <c>msg</c> frame (docs/PROTOCOL.md §4.2): one message's v1 line as <c>m</c>, with why it was sent (<c>k</c>),
/// its hop count (<c>h</c>), age (<c>age</c>), tree flag (<c>t</c>) and the root of the rooted tree it rides (<c>r</c>).
/// </summary>
/// <remarks>
/// <c>m</c> is the line byte for byte, in both directions (§4.3): written raw, last, and read as a slice of the frame,
/// so a relay forwards what it received and never re-serialises it.
/// </remarks>
internal static class V2MessageCodec
{
    /// <summary>Throws unless <paramref name="message"/> can be written.</summary>
    /// <exception cref="ArgumentException">No line, a line that is not one JSON object on one line, or an unknown kind.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A root that was not interned.</exception>
    public static void Validate(PlumtreeMessage message, V2Authors authors)
    {
        if (message.Root >= 0)
        {
            V2Json.CheckAuthor(authors, message.Root);
        }

        if (message.Line is not { } line)
        {
            throw new ArgumentException("A msg frame needs the message's v1 line (PlumtreeMessage.Line).");
        }

        // m is written raw, unchecked: a cheap guard that it is one JSON object that cannot break the framing.
        ReadOnlySpan<byte> trimmed = line.AsSpan().Trim(" \t\r\n"u8);
        if (trimmed.Length < 2 || trimmed[0] != (byte)'{' || trimmed[^1] != (byte)'}' || line.AsSpan().Contains((byte)'\n'))
        {
            throw new ArgumentException("PlumtreeMessage.Line must be a JSON object on one line.");
        }

        if (message.Kind is not (PlumtreeSendKind.Eager or PlumtreeSendKind.Graft or PlumtreeSendKind.Sync))
        {
            throw new ArgumentException($"Unknown send kind {message.Kind}.");
        }
    }

    /// <summary>Writes the members of a validated <c>msg</c> frame.</summary>
    public static void Write(Utf8JsonWriter writer, PlumtreeMessage message, V2Authors authors)
    {
        System.Diagnostics.Debug.Assert(message.Line is not null, "validated before writing");
        writer.WriteString("sg2"u8, "msg"u8);
        writer.WriteString("k"u8, message.Kind switch
        {
            PlumtreeSendKind.Eager => "e"u8,
            PlumtreeSendKind.Graft => "g"u8,
            _ => "s"u8,
        });
        if (message.Hops > 0)
        {
            writer.WriteNumber("h"u8, Math.Min(message.Hops, V2Frames.MaxHops)); // saturating, §4.1
        }

        long age = Math.Clamp(message.AgeMs, 0, int.MaxValue);
        if (age > 0)
        {
            writer.WriteNumber("age"u8, age);
        }

        if (message.AuthorTree)
        {
            writer.WriteNumber("t"u8, 1);
        }

        if (message.Root >= 0)
        {
            writer.WriteString("r"u8, authors.NameOf(message.Root));
        }

        writer.WritePropertyName("m"u8);
        writer.WriteRawValue(message.Line, skipInputValidation: true);
    }

    /// <summary>
    /// Reads a <c>msg</c> frame. Its <see cref="PlumtreeMessage.Message"/> is left default: the caller computes the id
    /// from the line.
    /// </summary>
    public static bool TryRead(in V2FrameMembers members, V2Authors authors, out IGossipFrame? frame, out string? error)
    {
        frame = null;
        if (!members.NoDuplicates("msg", out error, V2Member.K, V2Member.H, V2Member.Age, V2Member.T, V2Member.M, V2Member.R))
        {
            return false;
        }

        if (members.Count(V2Member.K) == 0)
        {
            error = "msg.k: missing";
            return false;
        }

        var reader = members.Open(V2Member.K);
        PlumtreeSendKind kind;
        if (reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("e"u8))
        {
            kind = PlumtreeSendKind.Eager;
        }
        else if (reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("g"u8))
        {
            kind = PlumtreeSendKind.Graft;
        }
        else if (reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("s"u8))
        {
            kind = PlumtreeSendKind.Sync;
        }
        else
        {
            error = "msg.k: not \"e\", \"g\" or \"s\"";
            return false;
        }

        if (!members.TryReadOptionalInt(V2Member.H, 0, V2Frames.MaxHops, "msg", out int hops, out error)
            || !members.TryReadOptionalInt(V2Member.Age, 0, int.MaxValue, "msg", out int age, out error)
            || !members.TryReadFlag(V2Member.T, "msg", out bool authorTree, out error))
        {
            return false;
        }

        int root = -1;
        if (members.Count(V2Member.R) > 0 && !members.TryReadAuthor(V2Member.R, authors, "msg", out root, out error))
        {
            return false;
        }

        if (members.Count(V2Member.M) == 0 || members.TypeOf(V2Member.M) != JsonTokenType.StartObject)
        {
            error = members.Count(V2Member.M) == 0 ? "msg.m: missing" : "msg.m: not a JSON object";
            return false;
        }

        // The line exactly as received (§4.3): sliced from the frame, never re-serialised.
        byte[] bytes = members.Raw(V2Member.M).ToArray();
        frame = new PlumtreeMessage(default, bytes.Length, kind, hops, authorTree) { Line = bytes, AgeMs = age, Root = root };
        return true;
    }
}
