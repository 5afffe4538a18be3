using System.Text;
using SecureGossip.Protocol;
using SecureGossip.Protocol.Membership;

namespace SecureGossip.Tests.Protocol.Wire;

/// <summary>The membership frames on the wire (docs/PROTOCOL.md §19): each round-trips, and bad ones are refused with a reason.</summary>
public sealed class V2MembershipCodecTests
{
    public static TheoryData<MembershipFrame<string>> Frames() =>
    [
        new JoinFrame<string>(),
        new ForwardJoinFrame<string>("127.0.0.1:7001", 6),
        new NeighbourFrame<string>(true),
        new NeighbourReplyFrame<string>(false),
        new DisconnectFrame<string>(),
        new ShuffleFrame<string>("10.0.0.1:7000", ["10.0.0.2:7000", "ws://example.org:8080/gossip", "@" + Convert.ToBase64String(new byte[32]) + ".ed25519@[::1]:7003"], 6),
        new ShuffleReplyFrame<string>([]),
    ];

    [Theory]
    [MemberData(nameof(Frames))]
    public void Every_frame_reads_back_as_it_was_written(MembershipFrame<string> frame)
    {
        byte[] line = V2MembershipCodec.Encode(frame);
        Assert.True(V2MembershipCodec.IsMembership(line));
        Assert.True(V2MembershipCodec.TryRead(line, out MembershipFrame<string>? read, out string? error), error);
        Assert.Equal(Encoding.UTF8.GetString(line), Encoding.UTF8.GetString(V2MembershipCodec.Encode(read!)));
    }

    [Theory]
    [InlineData("""{"sg2":"hv","t":"fjoin","p":"0.0.0.0:7000","ttl":3}""")]
    [InlineData("""{"sg2":"hv","t":"fjoin","p":"127.0.0.1:7000","ttl":17}""")]
    [InlineData("""{"sg2":"hv","t":"fjoin","p":"127.0.0.1:7000"}""")]
    [InlineData("""{"sg2":"hv","t":"nbr"}""")]
    [InlineData("""{"sg2":"hv","t":"shufr","ps":["nowhere"]}""")]
    [InlineData("""{"sg2":"hv","t":"shufr","ps":[1]}""")]
    [InlineData("""{"sg2":"hv","t":"leave"}""")]
    [InlineData("""{"sg2":"hv","t":"join""")]
    public void A_malformed_frame_is_refused_with_a_reason(string text)
    {
        Assert.False(V2MembershipCodec.TryRead(Encoding.UTF8.GetBytes(text), out MembershipFrame<string>? frame, out string? error));
        Assert.Null(frame);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void A_shuffle_naming_more_peers_than_the_limit_is_refused()
    {
        string[] peers = [.. Enumerable.Range(1, V2MembershipCodec.MaxPeers + 1).Select(i => $"10.0.0.{i}:7000")];
        byte[] line = V2MembershipCodec.Encode(new ShuffleReplyFrame<string>(peers));
        Assert.False(V2MembershipCodec.TryRead(line, out _, out string? error));
        Assert.Contains("more than", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_hello_carries_the_advertised_address_and_an_older_reader_ignores_it()
    {
        byte[] hello = V2Hello.Create("key.ed25519", 1000, advertise: "127.0.0.1:7000");
        Assert.Equal(2, V2Hello.TryReadHello(hello, out string? node, out string? address));
        Assert.Equal("key.ed25519", node);
        Assert.Equal("127.0.0.1:7000", address);
        Assert.Equal(2, V2Hello.TryReadHello(hello)); // the member is one more unknown to a reader that does not look for it

        Assert.Equal(2, V2Hello.TryReadHello(V2Hello.Create("key.ed25519", 1000), out _, out string? none));
        Assert.Null(none);
    }
}
