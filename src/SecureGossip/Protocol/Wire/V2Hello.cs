using System.Buffers;
using System.Text;
using System.Text.Json;

namespace SecureGossip.Protocol;

/// <summary>
/// Protocol v2 frames on the v1 byte stream (docs/PROTOCOL.md §4–§5): JSON objects whose first member is
/// <c>"sg2":"&lt;type&gt;"</c>. A secure-gossip 0.3.1 peer drops them (no <c>data</c>, so ssb-keys throws), so a v2
/// node can announce itself with a <c>hello</c> on every connection without disturbing a JS peer.
/// </summary>
/// <remarks>The other v2 frames are written by <see cref="V2FrameWriter"/> and read by <see cref="V2FrameReader"/>.</remarks>
internal static class V2Hello
{
    /// <summary>The version this node speaks (and the lowest it accepts).</summary>
    public const int Version = 2;

    private static ReadOnlySpan<byte> Prefix => "{\"sg2\":\""u8;

    /// <summary>
    /// The hello line: <c>{"sg2":"hello","v":2,"min":2,"node":"&lt;public&gt;","max":&lt;bytes&gt;,"ext":[]}</c>, with
    /// <c>"topic":"&lt;id&gt;"</c> after <c>ext</c> when the node is on a topic other than the default (§20), and
    /// <c>"addr":"&lt;address&gt;"</c> last when the node takes part in membership and can be dialled there (§19).
    /// </summary>
    public static byte[] Create(string publicKey, int maxFrameBytes, string? advertise = null, string? topic = null)
    {
        var buffer = new ArrayBufferWriter<byte>(160);
        Write(publicKey, maxFrameBytes, buffer, advertise, topic);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the hello line (<see cref="Create"/>), without its trailing newline, to <paramref name="output"/>.</summary>
    public static void Write(string publicKey, int maxFrameBytes, IBufferWriter<byte> output, string? advertise = null, string? topic = null)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        ArgumentNullException.ThrowIfNull(output);

        // The default encoder, unlike the frames' relaxed one: it escapes a '+' in the key as \u002B, and hellos have
        // always gone out that way (JSON.parse reads both spellings alike).
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        writer.WriteString("sg2", "hello");
        writer.WriteNumber("v", Version);
        writer.WriteNumber("min", Version);
        writer.WriteString("node", publicKey);
        writer.WriteNumber("max", maxFrameBytes);
        writer.WriteStartArray("ext");
        writer.WriteEndArray();
        if (topic is not null)
        {
            writer.WriteString("topic", topic);
        }

        if (advertise is not null)
        {
            writer.WriteString("addr", advertise);
        }

        writer.WriteEndObject();
    }

    /// <summary>Whether the line is a v2 frame (its first member is <c>sg2</c>), which the v1 path must not treat as a message.</summary>
    public static bool IsFrame(ReadOnlySpan<byte> line) => line.TrimStart(" \t\r\n"u8).StartsWith(Prefix);

    /// <summary>
    /// Reads a hello: the version the link will speak (the lower of both, if each accepts it), or 0 when the
    /// line is another frame type or malformed.
    /// </summary>
    public static int TryReadHello(ReadOnlySpan<byte> line) => TryReadHello(line, out _);

    /// <summary>As <see cref="TryReadHello(ReadOnlySpan{byte})"/>, also giving the sender's claimed key (<c>node</c>), if any.</summary>
    public static int TryReadHello(ReadOnlySpan<byte> line, out string? node) => TryReadHello(line, out node, out _);

    /// <summary>As <see cref="TryReadHello(ReadOnlySpan{byte}, out string?)"/>, also giving the address the sender advertises for membership (<c>addr</c>), if any.</summary>
    public static int TryReadHello(ReadOnlySpan<byte> line, out string? node, out string? address) => TryReadHello(line, out node, out address, out _);

    /// <summary>
    /// As <see cref="TryReadHello(ReadOnlySpan{byte}, out string?, out string?)"/>, also giving the topic the link is
    /// for (<c>topic</c>, §20): null for the default topic; a string that is not a topic id is returned as it is (it
    /// then matches no topic).
    /// </summary>
    public static int TryReadHello(ReadOnlySpan<byte> line, out string? node, out string? address, out string? topic)
    {
        node = null;
        address = null;
        topic = null;
        try
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 4 });
            int version = 0, min = int.MaxValue;
            bool hello = false;
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return 0;
            }

            // Every frame passes through here, so names are compared in place, and a frame whose sg2 says another type
            // (first, in every frame this node writes) is given up at once.
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                Member member = reader.ValueTextEquals("sg2"u8) ? Member.Type
                    : reader.ValueTextEquals("v"u8) ? Member.Version
                    : reader.ValueTextEquals("min"u8) ? Member.Min
                    : reader.ValueTextEquals("node"u8) ? Member.Node
                    : reader.ValueTextEquals("addr"u8) ? Member.Address
                    : reader.ValueTextEquals("topic"u8) ? Member.Topic
                    : Member.Other;
                if (member == Member.Other)
                {
                    _ = reader.GetString(); // a name that is not UTF-8 makes the frame malformed (it throws)
                }

                reader.Read();
                switch (member)
                {
                    case Member.Type:
                        hello = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("hello"u8);
                        if (!hello)
                        {
                            return 0;
                        }

                        break;
                    case Member.Version when reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int v):
                        version = v;
                        break;
                    case Member.Min when reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int m):
                        min = m;
                        break;
                    case Member.Node when reader.TokenType == JsonTokenType.String:
                        node = reader.GetString();
                        break;
                    case Member.Address when reader.TokenType == JsonTokenType.String && reader.ValueSpan.Length <= MaxAddressBytes:
                        address = reader.GetString();
                        break;
                    case Member.Topic when reader.TokenType == JsonTokenType.String:
                        topic = reader.ValueSpan.Length <= 64 ? reader.GetString() : "(not a topic id)";
                        break;
                    case Member.Topic:
                        topic = "(not a topic id)"; // a topic member that is not a string names no topic, not the default
                        reader.Skip();
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            int spoken = Math.Min(version, Version);
            return hello && spoken >= Version && min <= Version ? spoken : 0;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: GetString() on a name or node that is invalid UTF-8 or holds an escaped lone
            // surrogate. The node hands hellos over before its UTF-8 repair; such a line is malformed, not a hello.
            return 0;
        }
    }

    public static string Describe(ReadOnlySpan<byte> line) => Encoding.UTF8.GetString(line[..Math.Min(line.Length, 64)]);

    private enum Member
    {
        Other,
        Type,
        Version,
        Min,
        Node,
        Address,
        Topic,
    }

    /// <summary>The longest advertised address read (a key and a WebSocket URL fit well within it).</summary>
    public const int MaxAddressBytes = 512;
}
