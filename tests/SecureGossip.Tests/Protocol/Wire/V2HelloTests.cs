using System.Buffers;
using System.Text;
using SecureGossip.Protocol;

namespace SecureGossip.Tests.Protocol.Wire;

/// <summary><see cref="V2Hello"/> written into an output (docs/PROTOCOL.md §5).</summary>
public sealed class V2HelloTests
{
    [Fact]
    public void The_hello_is_written_after_what_the_output_holds_exactly_as_it_has_always_gone_out()
    {
        var output = new ArrayBufferWriter<byte>();
        output.Write("abc"u8);

        V2Hello.Write(WireFrames.Key, 1_049_600, output);

        // Unlike other frames, the hello goes through the default JSON encoder, which escapes '+' (JSON.parse reads it back alike).
        string key = WireFrames.Key.Replace("+", "\\u002B", StringComparison.Ordinal);
        string hello = "{\"sg2\":\"hello\",\"v\":2,\"min\":2,\"node\":\"" + key + "\",\"max\":1049600,\"ext\":[]}";
        Assert.Contains("\\u002B", hello, StringComparison.Ordinal);
        Assert.Equal("abc" + hello, Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal(hello, Encoding.UTF8.GetString(V2Hello.Create(WireFrames.Key, 1_049_600)));

        Assert.Equal(2, V2Hello.TryReadHello(output.WrittenSpan[3..], out string? node));
        Assert.Equal(WireFrames.Key, node);
    }
}
