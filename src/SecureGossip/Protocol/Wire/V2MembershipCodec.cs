using System.Buffers;
using System.Text.Json;
using SecureGossip.Protocol.Membership;
using SecureGossip.Transports;

namespace SecureGossip.Protocol;

/// <summary>
/// HyParView frames on a v2 link (docs/PROTOCOL.md §19): <c>{"sg2":"hv","t":TYPE,...}</c> with peers named by the
/// addresses they advertise (<see cref="PeerAddress"/> text). Sent only to peers whose hello advertised an address.
/// </summary>
/// <remarks>
/// <c>join</c>; <c>fjoin</c> with <c>p</c> (the joiner) and <c>ttl</c>; <c>nbr</c> with <c>hi</c>; <c>nbrr</c> with
/// <c>ok</c>; <c>disc</c>; <c>shuf</c> with <c>o</c> (its origin), <c>ps</c> (a list) and <c>ttl</c>; <c>shufr</c> with
/// <c>ps</c>. A frame with an unknown type, a missing member, an address that does not parse or cannot be dialled,
/// more than <see cref="MaxPeers"/> peers or a ttl outside 0 to <see cref="MaxTtl"/> is malformed.
/// </remarks>
internal static class V2MembershipCodec
{
    /// <summary>The most peers a shuffle or its answer names.</summary>
    public const int MaxPeers = 32;

    /// <summary>The longest walk a frame may ask for.</summary>
    public const int MaxTtl = 16;

    private static ReadOnlySpan<byte> Prefix => "{\"sg2\":\"hv\""u8;

    /// <summary>Whether the frame is a membership frame (its type, written first, is <c>hv</c>).</summary>
    public static bool IsMembership(ReadOnlySpan<byte> frame) => frame.StartsWith(Prefix);

    /// <summary>The frame as one line, without its newline.</summary>
    public static byte[] Encode(MembershipFrame<string> frame)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("sg2", "hv");
            switch (frame)
            {
                case JoinFrame<string>:
                    writer.WriteString("t", "join");
                    break;
                case ForwardJoinFrame<string> forward:
                    writer.WriteString("t", "fjoin");
                    writer.WriteString("p", forward.Peer);
                    writer.WriteNumber("ttl", forward.Ttl);
                    break;
                case NeighbourFrame<string> request:
                    writer.WriteString("t", "nbr");
                    writer.WriteBoolean("hi", request.High);
                    break;
                case NeighbourReplyFrame<string> reply:
                    writer.WriteString("t", "nbrr");
                    writer.WriteBoolean("ok", reply.Accepted);
                    break;
                case DisconnectFrame<string>:
                    writer.WriteString("t", "disc");
                    break;
                case ShuffleFrame<string> shuffle:
                    writer.WriteString("t", "shuf");
                    writer.WriteString("o", shuffle.Origin);
                    WritePeers(writer, shuffle.Peers);
                    writer.WriteNumber("ttl", shuffle.Ttl);
                    break;
                case ShuffleReplyFrame<string> reply:
                    writer.WriteString("t", "shufr");
                    WritePeers(writer, reply.Peers);
                    break;
                default:
                    throw new ArgumentException($"{frame.GetType().Name} is not a membership frame type.", nameof(frame));
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a membership frame; false (with why) when it is malformed.</summary>
    public static bool TryRead(ReadOnlySpan<byte> line, out MembershipFrame<string>? frame, out string? error)
    {
        frame = null;
        string? type = null, peer = null, origin = null;
        int ttl = -1;
        bool? flag = null;
        List<string>? peers = null;
        try
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 3 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "not a JSON object";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                reader.Read();
                switch (name)
                {
                    case "t" when reader.TokenType == JsonTokenType.String:
                        type = reader.GetString();
                        break;
                    case "p" when reader.TokenType == JsonTokenType.String:
                        peer = reader.GetString();
                        break;
                    case "o" when reader.TokenType == JsonTokenType.String:
                        origin = reader.GetString();
                        break;
                    case "ttl" when reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int t):
                        ttl = t;
                        break;
                    case "hi" or "ok" when reader.TokenType is JsonTokenType.True or JsonTokenType.False:
                        flag = reader.GetBoolean();
                        break;
                    case "ps" when reader.TokenType == JsonTokenType.StartArray:
                        peers = [];
                        while (reader.Read() && reader.TokenType == JsonTokenType.String)
                        {
                            if (peers.Count == MaxPeers)
                            {
                                error = $"more than {MaxPeers} peers";
                                return false;
                            }

                            peers.Add(reader.GetString()!);
                        }

                        if (reader.TokenType != JsonTokenType.EndArray)
                        {
                            error = "a peer that is not a string";
                            return false;
                        }

                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            error = "malformed JSON";
            return false;
        }

        bool walk = ttl is >= 0 and <= MaxTtl;
        frame = type switch
        {
            "join" => new JoinFrame<string>(),
            "fjoin" when walk && Valid(peer) => new ForwardJoinFrame<string>(peer!, ttl),
            "nbr" when flag is { } high => new NeighbourFrame<string>(high),
            "nbrr" when flag is { } ok => new NeighbourReplyFrame<string>(ok),
            "disc" => new DisconnectFrame<string>(),
            "shuf" when walk && Valid(origin) && peers is not null && peers.All(Valid) => new ShuffleFrame<string>(origin!, [.. peers], ttl),
            "shufr" when peers is not null && peers.All(Valid) => new ShuffleReplyFrame<string>([.. peers]),
            _ => null,
        };
        error = frame is null ? $"a membership frame of type '{type}' with members missing or out of range" : null;
        return frame is not null;
    }

    /// <summary>An address a node could dial, in its canonical form.</summary>
    public static bool Valid(string? address) =>
        address is { Length: > 0 and <= V2Hello.MaxAddressBytes } &&
        PeerAddress.TryParse(address, out PeerAddress? parsed, out _) && parsed!.IsDialable && parsed.ToString() == address;

    private static void WritePeers(Utf8JsonWriter writer, string[] peers)
    {
        writer.WriteStartArray("ps");
        foreach (string peer in peers)
        {
            writer.WriteStringValue(peer);
        }

        writer.WriteEndArray();
    }
}
