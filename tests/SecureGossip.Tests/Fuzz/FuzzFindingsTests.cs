using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using SecureGossip.Protocol;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Fuzz;

/// <summary>
/// Reproducers of what the fuzzer found in src/ (reported in /work/briefs/fuzz-findings/). Each fails until its bug
/// is fixed; then its predicate in <see cref="KnownFindings"/> goes, and the fuzz runs cover the case again.
/// </summary>
public sealed class FuzzFindingsTests
{
    // {"sg2":"hello","v":2,"min":2,"<0x80>":1}: a hello with one byte of invalid UTF-8 in a member name. A JS peer
    // reads the byte as U+FFFD (its stream decoder), so to it this is a hello like any other.
    private static readonly byte[] s_helloWithInvalidUtf8 = [.. "{\"sg2\":\"hello\",\"v\":2,\"min\":2,\""u8, 0x80, .. "\":1}"u8];

    [Fact]
    public void Finding1_a_hello_with_invalid_utf8_is_read_not_thrown()
    {
        // Today: InvalidOperationException ("Cannot transcode invalid UTF-8 JSON text to UTF-16 string") from
        // Utf8JsonReader.GetString() on the member name; TryReadHello catches only JsonException.
        // Read as a hello (2) or refused as malformed (0): either, as long as it returns.
        int version = V2Hello.TryReadHello(s_helloWithInvalidUtf8, out _);
        Assert.True(version is 0 or 2, $"version {version}");
    }

    [Fact]
    public async Task Finding1_a_hello_with_invalid_utf8_does_not_end_the_link()
    {
        await using GossipNode author = Gossip.Node(Timeout.InfiniteTimeSpan);
        string line = Gossip.SignedLine(author, "{\"after\":\"the odd hello\"}");
        await using var receiver = new GossipNode(new GossipNodeOptions { Interval = Timeout.InfiniteTimeSpan, AnnounceV2 = true, CatchUpV1Peers = false });
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        receiver.MessageReceived += (_, _) => delivered.TrySetResult();
        (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
        Task link = receiver.RunConnectionAsync(left);
        _ = DrainAsync(right.Input);
        await right.Output.WriteAsync((byte[])[.. s_helloWithInvalidUtf8, (byte)'\n', .. Encoding.UTF8.GetBytes(line), (byte)'\n']);

        // Today the exception escapes the read loop, which ends the link (logged as a failed peer) before the
        // next line is read.
        Task first = await Task.WhenAny(delivered.Task, link).WaitAsync(Gossip.Timeout);
        Assert.True(first == delivered.Task, "the node closed the link on a hello with invalid UTF-8 instead of reading on");
        await right.DisposeAsync();
    }

    [Fact]
    public void Finding2_a_frame_with_a_lone_surrogate_in_a_member_name_is_rejected_not_thrown()
    {
        // Today: InvalidOperationException ("Cannot read invalid UTF-16 JSON text as string. Invalid surrogate value:
        // '0xDC00'") from Utf8JsonReader.ValueTextEquals in V2Frames.ReadMembers. JSON.parse accepts the name and an
        // unknown member is ignored (§4.1), so reading it as a prune is right; refusing it is too (the codec is strict
        // with frames): what is not is throwing, which ends the link.
        using var keys = SecureGossip.Crypto.GossipKeys.FromSeed(new byte[32]);
        byte[] line = Encoding.UTF8.GetBytes("{\"sg2\":\"prune\",\"a\":\"" + keys.Public + "\",\"\\udc00\":1}");
        bool ok = V2Frames.TryDecode(line, new V2Authors(), 64, out SecureGossip.Protocol.Core.IGossipFrame? frame, out string? error);
        Assert.True(ok ? frame is SecureGossip.Protocol.Core.PlumtreePrune && error is null : frame is null && !string.IsNullOrEmpty(error), $"{ok} {frame} {error}");
    }

    private static async Task DrainAsync(PipeReader reader)
    {
        while (true)
        {
            ReadResult result = await reader.ReadAsync();
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }
}
