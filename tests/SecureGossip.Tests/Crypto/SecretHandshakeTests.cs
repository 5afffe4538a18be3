using System.Buffers;
using System.Security.Cryptography;
using SecureGossip.Crypto;

namespace SecureGossip.Tests.Crypto;

/// <summary>The secret handshake's state machines and box-stream, without IO: every refusal says why.</summary>
public sealed class SecretHandshakeTests : IDisposable
{
    private readonly GossipKeys _client = GossipKeys.Generate();
    private readonly GossipKeys _server = GossipKeys.Generate();
    private readonly byte[] _network = RandomNumberGenerator.GetBytes(32);

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }

    [Fact]
    public void Both_sides_agree_on_crossed_keys_and_prove_each_other()
    {
        (BoxStreamKeys client, BoxStreamKeys server, byte[] clientKeySeen) = Run(_network, [_network], _server.PublicKey.ToArray(), _ => true);

        Assert.Equal(_client.PublicKey.ToArray(), clientKeySeen);
        Assert.Equal(_server.PublicKey.ToArray(), client.RemoteKey);
        Assert.Equal(client.EncryptKey, server.DecryptKey);
        Assert.Equal(client.EncryptNonce, server.DecryptNonce);
        Assert.Equal(server.EncryptKey, client.DecryptKey);
        Assert.Equal(server.EncryptNonce, client.DecryptNonce);
        Assert.NotEqual(client.EncryptKey, client.DecryptKey); // each direction has its own key
    }

    [Fact]
    public void A_client_with_another_network_key_is_refused_at_its_first_message()
    {
        var client = new SecretHandshake.Client(_client, RandomNumberGenerator.GetBytes(32), _server.PublicKey.ToArray());
        var server = new SecretHandshake.Server(_server, [_network]);

        var e = Assert.Throws<SecretHandshakeException>(() => server.Hello(client.Hello()));
        Assert.Contains("wrong network key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_server_holds_several_network_keys_and_answers_on_the_one_the_client_used()
    {
        byte[] old = RandomNumberGenerator.GetBytes(32);
        (BoxStreamKeys client, BoxStreamKeys server, _) = Run(old, [_network, old], _server.PublicKey.ToArray(), _ => true);
        Assert.Equal(client.EncryptKey, server.DecryptKey);
    }

    [Fact]
    public void A_client_that_dialled_another_key_is_refused_by_the_server_and_learns_nothing()
    {
        using GossipKeys other = GossipKeys.Generate();
        var client = new SecretHandshake.Client(_client, _network, other.PublicKey.ToArray()); // expects "other" to answer
        var server = new SecretHandshake.Server(_server, [_network]);
        byte[] auth = client.Authenticate(server.Hello(client.Hello()));

        var e = Assert.Throws<SecretHandshakeException>(() => server.Accept(auth, _ => true));
        Assert.Contains("not for this server", e.Message, StringComparison.Ordinal);
        Assert.Null(server.ClientKey);
    }

    [Fact]
    public void A_server_that_is_not_the_key_dialled_is_refused_by_the_client()
    {
        // A man in the middle with its own keys that answers a client who expects _server: it cannot open the proof,
        // and if it forwards a made-up acceptance the client refuses it.
        var client = new SecretHandshake.Client(_client, _network, _server.PublicKey.ToArray());
        using GossipKeys impostor = GossipKeys.Generate();
        var server = new SecretHandshake.Server(impostor, [_network]);
        client.Authenticate(server.Hello(client.Hello()));

        var e = Assert.Throws<SecretHandshakeException>(() => client.Finish(RandomNumberGenerator.GetBytes(SecretHandshake.ServerAcceptLength)));
        Assert.Contains("did not prove", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_client_outside_the_allow_list_is_refused_with_its_key_named()
    {
        var client = new SecretHandshake.Client(_client, _network, _server.PublicKey.ToArray());
        var server = new SecretHandshake.Server(_server, [_network]);
        byte[] auth = client.Authenticate(server.Hello(client.Hello()));

        var e = Assert.Throws<SecretHandshakeException>(() => server.Accept(auth, _ => false));
        Assert.Contains(Convert.ToBase64String(_client.PublicKey), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_changed_proof_is_refused()
    {
        var client = new SecretHandshake.Client(_client, _network, _server.PublicKey.ToArray());
        var server = new SecretHandshake.Server(_server, [_network]);
        byte[] auth = client.Authenticate(server.Hello(client.Hello()));
        auth[40] ^= 1;

        Assert.Throws<SecretHandshakeException>(() => server.Accept(auth, _ => true));
    }

    [Fact]
    public void Box_stream_chunks_open_in_order_and_the_goodbye_ends_the_stream()
    {
        (BoxStreamKeys client, BoxStreamKeys server, _) = Run(_network, [_network], _server.PublicKey.ToArray(), _ => true);
        var sealer = new BoxStream.Sealer(client.EncryptKey, client.EncryptNonce);
        var wire = new ArrayBufferWriter<byte>();
        sealer.Seal("one"u8, wire);
        sealer.Seal(new byte[BoxStream.MaxChunk], wire);
        sealer.Goodbye(wire);

        var opener = new BoxStream.Opener(server.DecryptKey, server.DecryptNonce);
        var plain = new ArrayBufferWriter<byte>();
        var input = new ReadOnlySequence<byte>(wire.WrittenMemory[..10]); // a partial header: more is needed
        Assert.False(opener.TryOpen(ref input, plain));
        Assert.Equal(10, input.Length); // nothing consumed

        input = new ReadOnlySequence<byte>(wire.WrittenMemory);
        Assert.True(opener.TryOpen(ref input, plain));
        Assert.True(opener.TryOpen(ref input, plain));
        Assert.False(opener.TryOpen(ref input, plain));
        Assert.True(opener.Ended);
        Assert.Equal(3 + BoxStream.MaxChunk, plain.WrittenCount);
        Assert.Equal("one"u8.ToArray(), plain.WrittenSpan[..3].ToArray());
    }

    [Theory]
    [InlineData("changed header")]
    [InlineData("changed body")]
    [InlineData("replayed")]
    [InlineData("reordered")]
    [InlineData("another key")]
    public void A_box_stream_that_was_tampered_with_fails_to_open_and_says_so(string fault)
    {
        (BoxStreamKeys client, BoxStreamKeys server, _) = Run(_network, [_network], _server.PublicKey.ToArray(), _ => true);
        var sealer = new BoxStream.Sealer(client.EncryptKey, client.EncryptNonce);
        var first = new ArrayBufferWriter<byte>();
        var second = new ArrayBufferWriter<byte>();
        sealer.Seal("first"u8, first);
        sealer.Seal("second"u8, second);
        byte[] wire = fault switch
        {
            "changed header" => Flip([.. first.WrittenSpan, .. second.WrittenSpan], 5),
            "changed body" => Flip([.. first.WrittenSpan, .. second.WrittenSpan], BoxStream.HeaderLength + 1),
            "replayed" => [.. first.WrittenSpan, .. first.WrittenSpan],
            "reordered" => [.. second.WrittenSpan, .. first.WrittenSpan],
            _ => [.. first.WrittenSpan],
        };
        byte[] key = fault == "another key" ? RandomNumberGenerator.GetBytes(32) : server.DecryptKey;

        var opener = new BoxStream.Opener(key, server.DecryptNonce);
        var input = new ReadOnlySequence<byte>(wire);
        var plain = new ArrayBufferWriter<byte>();
        Assert.Throws<BoxStreamException>(() =>
        {
            while (opener.TryOpen(ref input, plain))
            {
            }
        });
        Assert.True(plain.WrittenCount <= "first".Length, "nothing after the fault was delivered");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_secured_connection_cut_mid_box_or_without_its_goodbye_delivers_what_opened_and_says_it_was_cut(bool midBox)
    {
        (BoxStreamKeys client, BoxStreamKeys server, _) = Run(_network, [_network], _server.PublicKey.ToArray(), _ => true);
        (SecureGossip.Transports.GossipConnection left, SecureGossip.Transports.GossipConnection right) = SecureGossip.Transports.InMemoryTransport.CreatePair();
        await using var secured = new SecureGossip.Transports.BoxStreamConnection(left, server);

        var sealer = new BoxStream.Sealer(client.EncryptKey, client.EncryptNonce);
        var wire = new ArrayBufferWriter<byte>();
        sealer.Seal("whole\n"u8, wire);
        sealer.Seal("cut off\n"u8, wire);
        int length = midBox ? wire.WrittenCount - 3 : wire.WrittenCount; // either way, no goodbye
        await right.Output.WriteAsync(wire.WrittenMemory[..length]);
        await right.Output.CompleteAsync();

        // What opened is delivered, then the stream ends; the connection says it was cut (the link's end is logged so).
        var received = new List<byte>();
        while (true)
        {
            System.IO.Pipelines.ReadResult read = await secured.Input.ReadAsync();
            received.AddRange(read.Buffer.ToArray());
            secured.Input.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                break;
            }
        }

        Assert.Equal("whole\n" + (midBox ? string.Empty : "cut off\n"), System.Text.Encoding.UTF8.GetString([.. received]));
        Assert.Equal("the box-stream was cut (it ended without its goodbye)", secured.AbortReason);
        Assert.True(secured.Closed.IsCancellationRequested);
        await right.DisposeAsync();
    }

    private static byte[] Flip(byte[] bytes, int at)
    {
        bytes[at] ^= 0x40;
        return bytes;
    }

    private (BoxStreamKeys Client, BoxStreamKeys Server, byte[] ClientKey) Run(byte[] clientNetwork, byte[][] serverNetworks, byte[] dialled, Func<byte[], bool> authorize)
    {
        var client = new SecretHandshake.Client(_client, clientNetwork, dialled);
        var server = new SecretHandshake.Server(_server, serverNetworks);
        byte[] serverHello = server.Hello(client.Hello());
        byte[] auth = client.Authenticate(serverHello);
        (byte[] accept, BoxStreamKeys serverKeys) = server.Accept(auth, authorize);
        BoxStreamKeys clientKeys = client.Finish(accept);
        return (clientKeys, serverKeys, server.ClientKey!);
    }
}
