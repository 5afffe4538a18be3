using System.Buffers;
using System.Text;
using SecureGossip.Protocol;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Tests.Protocol.Wire;

/// <summary><see cref="V2FrameReader"/> over lines as the framer hands them over: in one segment or in many.</summary>
public sealed class V2FrameReaderTests
{
    private const int Depth = 64;

    [Fact]
    public void A_frame_in_many_segments_reads_as_it_does_in_one()
    {
        var authors = new V2Authors();
        var random = new Random(3);
        foreach ((IGossipFrame _, string text) in WireFrames.All(authors))
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            Assert.True(V2FrameReader.TryRead(bytes, authors, Depth, out IGossipFrame? whole, out string? error), error);
            for (int split = 0; split < 20; split++)
            {
                ReadOnlySequence<byte> pieces = Segments.Split(bytes, random, maxPiece: 1 + split);
                Assert.False(pieces.IsSingleSegment);

                Assert.True(V2FrameReader.TryRead(pieces, authors, Depth, out IGossipFrame? frame, out error), error);

                Assert.Equal(text, Encoding.UTF8.GetString(V2Frames.Encode(frame!, authors)));
                Assert.Equal(V2Frames.Encode(whole!, authors), V2Frames.Encode(frame!, authors));
            }
        }
    }

    [Fact]
    public void A_msg_read_from_many_segments_keeps_its_own_copy_of_the_line()
    {
        var authors = new V2Authors();
        var random = new Random(4);
        byte[] first = Encoding.UTF8.GetBytes("{\"sg2\":\"msg\",\"k\":\"e\",\"m\":{\"data\":\"first\"}}");
        byte[] second = Encoding.UTF8.GetBytes("{\"sg2\":\"msg\",\"k\":\"e\",\"m\":{\"data\":\"other\"}}");

        Assert.True(V2FrameReader.TryRead(Segments.Split(first, random, 5), authors, Depth, out IGossipFrame? frame, out _));
        Assert.True(V2FrameReader.TryRead(Segments.Split(second, random, 5), authors, Depth, out _, out _)); // reuses the pooled copy

        Assert.Equal("{\"data\":\"first\"}", Encoding.UTF8.GetString(Assert.IsType<PlumtreeMessage>(frame).Line!));
    }

    [Theory]
    [InlineData("{\"sg2\":\"ihave\",\"i\":[[\"" + WireFrames.Id1 + "\",1],[\"AQ==\",2]]}", "ihave.i[1]: id is not 16 bytes of base64")]
    [InlineData("{\"sg2\":\"msg\",\"k\":\"x\",\"m\":{}}", "msg.k: not \"e\", \"g\" or \"s\"")]
    [InlineData("{\"sg2\":\"prune\",\"o\":1,\"o\":1,\"a\":\"k\"}", "prune.o: duplicate member")]
    [InlineData("{\"sg2\":\"sync\",\"seq\":1}", "has a top-level \"seq\" member, which a v2 frame must not have")]
    [InlineData("{\"sg2\":\"later\"}", "unknown frame type \"later\"")]
    public void A_broken_frame_in_many_segments_is_rejected_for_the_reason_it_is_in_one(string text, string reason)
    {
        var authors = new V2Authors();
        byte[] bytes = Encoding.UTF8.GetBytes(text);

        Assert.False(V2FrameReader.TryRead(bytes, authors, Depth, out _, out string? whole));
        Assert.False(V2FrameReader.TryRead(Segments.Split(bytes, new Random(2), 3), authors, Depth, out IGossipFrame? frame, out string? split));

        Assert.Null(frame);
        Assert.Equal(reason, whole);
        Assert.Equal(reason, split);
    }

    [Fact]
    public void Malformed_JSON_in_many_segments_is_rejected_not_thrown()
    {
        byte[] bytes = "{\"sg2\":\"ihave\",\"i\":[[}"u8.ToArray();

        Assert.False(V2FrameReader.TryRead(Segments.Split(bytes, new Random(1), 4), new V2Authors(), Depth, out _, out string? error));

        Assert.StartsWith("malformed JSON at byte", error, StringComparison.Ordinal);
    }
}
