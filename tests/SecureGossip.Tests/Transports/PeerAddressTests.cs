using System.Net;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Transports;

/// <summary>The address forms <c>--connect</c>, <c>--bootstrap</c> and membership frames use, and their canonical text.</summary>
public sealed class PeerAddressTests
{
    [Theory]
    [InlineData("127.0.0.1:7000", "127.0.0.1:7000")]
    [InlineData("[::1]:7000", "[::1]:7000")]
    [InlineData("localhost:7000", "localhost:7000")]
    [InlineData("ws://127.0.0.1:8080/gossip", "ws://127.0.0.1:8080/gossip")]
    [InlineData("@AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=.ed25519@10.0.0.1:7000", "@AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=.ed25519@10.0.0.1:7000")]
    public void An_address_reads_and_writes_back_in_its_canonical_form(string text, string canonical)
    {
        Assert.True(PeerAddress.TryParse(text, out PeerAddress? address, out string? error), error);
        Assert.Equal(canonical, address!.ToString());
        Assert.Equal(address, PeerAddress.Parse(canonical));
        Assert.True(address.IsDialable);
    }

    [Theory]
    [InlineData("nowhere", "is not HOST:PORT")]
    [InlineData("127.0.0.1:70000", "is not HOST:PORT")]
    [InlineData("KEY.ed25519@127.0.0.1:7000", "is not HOST:PORT")] // a key without its leading @ is not a host
    [InlineData("@KEY@127.0.0.1:7000", "is not @KEY.ed25519@HOST:PORT")]
    public void A_bad_address_is_refused_with_what_is_wrong(string text, string message)
    {
        Assert.False(PeerAddress.TryParse(text, out _, out string? error));
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => PeerAddress.Parse(text));
    }

    [Theory]
    [InlineData("0.0.0.0:7000")]
    [InlineData("[::]:7000")]
    [InlineData("127.0.0.1:0")]
    public void An_unspecified_address_or_port_is_not_dialable(string text)
    {
        Assert.False(PeerAddress.Parse(text).IsDialable);
        Assert.True(new PeerAddress(new IPEndPoint(IPAddress.Loopback, 1), null).IsDialable);
    }
}
