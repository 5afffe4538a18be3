using System.Buffers;
using System.Text;
using SecureGossip.Protocol;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Tests.Protocol.Wire;

/// <summary>
/// <see cref="V2FixedFrames"/>: the byte-for-byte path for <c>msg</c>, <c>tree</c>, <c>graft</c> (by author) and
/// <c>prune</c> must write what the JSON writer writes, read what the JSON reader reads, and take nothing the JSON reader
/// would refuse (for <c>msg</c>: nothing but a frame whose embedded line is then dropped as not JSON).
/// </summary>
public sealed class V2FixedFramesTests
{
    [Fact]
    public void Every_form_is_written_as_the_JSON_writer_writes_it_and_read_back_as_the_JSON_reader_reads_it()
    {
        var authors = new V2Authors();
        foreach (IGossipFrame frame in Forms(authors))
        {
            var output = new ArrayBufferWriter<byte>();
            int written = V2FixedFrames.TryWriteLine(frame, authors, output);

            byte[] json = V2Frames.Encode(frame, authors); // the Utf8JsonWriter path
            Assert.Equal(Encoding.UTF8.GetString(json) + "\n", Encoding.UTF8.GetString(output.WrittenSpan));
            Assert.Equal(json.Length + 1, written);

            Assert.True(TryReadFixed(json, authors, out IGossipFrame? fast), Encoding.UTF8.GetString(json));
            Assert.True(V2FrameReader.TryReadJson(json, authors, 64, out IGossipFrame? slow, out string? error), error);
            AssertSame(Saturated(frame), fast!);
            AssertSame(slow!, fast!);
        }
    }

    [Fact]
    public void Other_frames_are_left_to_the_JSON_writer()
    {
        var authors = new V2Authors();
        foreach ((IGossipFrame frame, _) in WireFrames.All(authors))
        {
            if (frame is PlumtreeGraft { Id: null } or PlumtreePrune or PlumtreeMessage)
            {
                continue;
            }

            var output = new ArrayBufferWriter<byte>();
            Assert.Equal(0, V2FixedFrames.TryWriteLine(frame, authors, output));
            Assert.Equal(0, output.WrittenCount);
        }
    }

    [Fact]
    public void A_frame_naming_an_author_not_interned_throws_before_a_byte_is_written()
    {
        var authors = new V2Authors();
        var output = new ArrayBufferWriter<byte>();

        Assert.ThrowsAny<ArgumentException>(() => V2FixedFrames.TryWriteLine(new PlumtreeBeacon(5, 1), authors, output));
        Assert.ThrowsAny<ArgumentException>(() => V2FixedFrames.TryWriteLine(new PlumtreePrune(5, false) { Rooted = true }, authors, output));
        int a = authors.Intern(WireFrames.Key);
        Assert.ThrowsAny<ArgumentException>(() => V2FixedFrames.TryWriteLine(new PlumtreeBeacon(a, 0), authors, output));
        Assert.Equal(0, output.WrittenCount);
    }

    [Theory]
    [InlineData("{\"sg2\":\"tree\",\"h\":2,\"a\":\"KEY\"}")] // another order
    [InlineData("{\"sg2\":\"tree\",\"a\":\"KEY\", \"h\":2}")] // whitespace
    [InlineData("{\"sg2\":\"tree\",\"a\":\"@KEY\",\"h\":2}")] // a sigil: another spelling of the key
    [InlineData("{\"sg2\":\"tree\",\"a\":\"KEY\",\"h\":02}")] // not JSON
    [InlineData("{\"sg2\":\"tree\",\"a\":\"KEY\",\"h\":0}")] // out of range
    [InlineData("{\"sg2\":\"tree\",\"a\":\"KEY\",\"h\":65536}")]
    [InlineData("{\"sg2\":\"tree\",\"a\":\"KEY\",\"h\":2,\"h\":3}")] // a duplicate
    [InlineData("{\"sg2\":\"graft\",\"a\":\"KEY\",\"r\":1,\"r\":1}")]
    [InlineData("{\"sg2\":\"graft\",\"a\":\"KEY\",\"o\":1}")] // o means nothing on a graft: the JSON reader ignores it
    [InlineData("{\"sg2\":\"prune\",\"a\":\"KEY\",\"r\":1,\"o\":1}")] // the writer's order is o, r
    [InlineData("{\"sg2\":\"prune\",\"a\":\"KEY\",\"r\":2}")]
    [InlineData("{\"sg2\":\"prune\",\"a\":\"KEY\"} ")]
    [InlineData("{\"sg2\":\"prune\",\"a\":\"KEY\"}}")]
    [InlineData("{\"sg2\":\"prune\",\"a\":\"UNKNOWN\"}")] // an author this node has not interned
    [InlineData("{\"sg2\":\"msg\",\"k\":\"e\",\"r\":\"UNKNOWN\",\"m\":{\"data\":{}}}")]
    [InlineData("{\"sg2\":\"msg\",\"k\":\"x\",\"m\":{\"data\":{}}}")]
    [InlineData("{\"sg2\":\"msg\",\"k\":\"e\",\"h\":0,\"m\":{\"data\":{}}}")]
    [InlineData("{\"sg2\":\"msg\",\"k\":\"e\",\"h\":65536,\"m\":{\"data\":{}}}")]
    [InlineData("{\"sg2\":\"msg\",\"k\":\"e\",\"age\":2147483648,\"m\":{\"data\":{}}}")]
    [InlineData("{\"sg2\":\"msg\",\"k\":\"e\",\"t\":1,\"h\":2,\"m\":{\"data\":{}}}")] // the writer's order is h, age, t, r
    [InlineData("{\"sg2\":\"msg\",\"k\":\"e\",\"m\":{\"data\":{}} }")] // whitespace around the line
    [InlineData("{\"sg2\":\"msg\",\"k\":\"e\",\"m\": {\"data\":{}}}")]
    [InlineData("{\"sg2\":\"msg\",\"k\":\"e\",\"m\":{\"data\":{}},\"h\":2}")] // m not last
    [InlineData("{\"sg2\":\"msg\",\"k\":\"e\",\"m\":[1]}")]
    public void Any_other_spelling_is_left_to_the_JSON_reader_which_decides_it(string template)
    {
        var authors = new V2Authors();
        authors.Intern(WireFrames.Key);
        string unknown = Convert.ToBase64String(new byte[32]) + ".ed25519";
        byte[] line = Encoding.ASCII.GetBytes(template.Replace("UNKNOWN", unknown).Replace("KEY", WireFrames.Key));

        Assert.False(TryReadFixed(line, authors, out IGossipFrame? frame));
        Assert.Null(frame);

        // The full reader still reads what is valid (and interns the unknown author), and refuses the rest.
        bool valid = V2FrameReader.TryRead(line, authors, 64, out IGossipFrame? read, out _);
        Assert.Equal(valid, V2FrameReader.TryReadJson(line, authors, 64, out IGossipFrame? json, out _));
        if (valid)
        {
            AssertSame(json!, read!);
        }
    }

    [Fact]
    public void A_mutated_line_the_fast_path_takes_is_read_the_same_by_the_JSON_reader()
    {
        var authors = new V2Authors();
        byte[][] lines = [.. Forms(authors).Select(f => V2Frames.Encode(f, authors))];
        var random = new Random(10);
        byte[] alphabet = "{}[]\":,0123456789 \\aegnoprst.=+/AQ"u8.ToArray();
        int taken = 0;
        for (int round = 0; round < 20_000; round++)
        {
            List<byte> mutated = [.. lines[random.Next(lines.Length)]];
            for (int edits = random.Next(1, 3); edits > 0; edits--)
            {
                int at = random.Next(mutated.Count);
                byte b = alphabet[random.Next(alphabet.Length)];
                switch (random.Next(3))
                {
                    case 0: mutated[at] = b; break;
                    case 1: mutated.Insert(at, b); break;
                    default: mutated.RemoveAt(at); break;
                }
            }

            byte[] line = [.. mutated];
            if (TryReadFixed(line, authors, out IGossipFrame? fast))
            {
                taken++;
                if (V2FrameReader.TryReadJson(line, authors, 64, out IGossipFrame? json, out string? error))
                {
                    AssertSame(json!, fast!);
                }
                else
                {
                    // Only a msg frame whose embedded line is not JSON, which the receive path then drops as malformed.
                    var message = Assert.IsType<PlumtreeMessage>(fast);
                    Assert.NotEqual(DropReason.None, V1Envelope.Validate(message.Line, 64));
                    Assert.NotNull(error);
                }
            }
        }

        Assert.InRange(taken, 1, 20_000); // some mutations keep the form (a digit of h, a flag, the line): the comparison ran
    }

    /// <summary>The fixed-form readers as the receive path uses them: msg frames, then the tree frames.</summary>
    private static bool TryReadFixed(ReadOnlySpan<byte> line, V2Authors authors, out IGossipFrame? frame)
    {
        if (V2FixedFrames.TryReadMessage(line, authors, out PlumtreeMessage? message))
        {
            frame = message;
            return true;
        }

        return V2FixedFrames.TryRead(line, authors, out frame);
    }

    /// <summary>Every form the writer gives these frames, with two authors.</summary>
    private static IEnumerable<IGossipFrame> Forms(V2Authors authors)
    {
        int a = authors.Intern(WireFrames.Key);
        int b = authors.Intern(WireFrames.Key2);
        byte[][] lines = [Encoding.UTF8.GetBytes(WireFrames.Line), "{\"data\":{\"text\":\"é \\\"}\\n\",\"n\":[1,{}]},\"public\":\"k\",\"seq\":2}"u8.ToArray(), "{}"u8.ToArray()];
        foreach (PlumtreeSendKind kind in new[] { PlumtreeSendKind.Eager, PlumtreeSendKind.Graft, PlumtreeSendKind.Sync })
        {
            foreach (int hops in new[] { 0, 1, 12, V2Frames.MaxHops, V2Frames.MaxHops + 7 })
            {
                foreach (long age in new[] { 0L, 1L, 420L, int.MaxValue, int.MaxValue + 9L, -3L })
                {
                    foreach (int root in new[] { -1, a, b })
                    {
                        byte[] line = lines[(hops + (int)(age % 3) + root + 3) % lines.Length];
                        yield return new PlumtreeMessage(default, line.Length, kind, hops, AuthorTree: root < 0 && hops % 2 == 0) { Line = line, AgeMs = age, Root = root };
                    }
                }
            }
        }

        foreach (int author in new[] { a, b })
        {
            foreach (int hops in new[] { 1, 2, 9, 10, 99, 12_345, V2Frames.MaxHops, V2Frames.MaxHops + 1, int.MaxValue })
            {
                yield return new PlumtreeBeacon(author, hops);
            }

            yield return new PlumtreeGraft(null, author);
            yield return new PlumtreeGraft(null, author) { Rooted = true };
            foreach (bool optimisation in new[] { false, true })
            {
                yield return new PlumtreePrune(author, optimisation);
                yield return new PlumtreePrune(author, optimisation) { Rooted = true };
            }
        }
    }

    /// <summary>The frame as it reads back: hop counts saturate on the wire, ages are clamped to 0 … 2^31 − 1.</summary>
    private static IGossipFrame Saturated(IGossipFrame frame) => frame switch
    {
        PlumtreeBeacon beacon => beacon with { Hops = Math.Min(beacon.Hops, V2Frames.MaxHops) },
        PlumtreeMessage message => message with { Hops = Math.Min(message.Hops, V2Frames.MaxHops), AgeMs = Math.Clamp(message.AgeMs, 0, int.MaxValue) },
        _ => frame,
    };

    /// <summary>Equal frames; a message's line by its bytes (each reader makes its own copy).</summary>
    private static void AssertSame(IGossipFrame expected, IGossipFrame actual)
    {
        if (expected is PlumtreeMessage e && actual is PlumtreeMessage a)
        {
            Assert.Equal(e.Line, a.Line);
            Assert.Equal(e with { Line = null }, a with { Line = null });
            return;
        }

        Assert.Equal(expected, actual);
    }
}
