using System.Buffers;
using System.Text;
using SecureGossip.Protocol;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Tests.Protocol.Wire;

/// <summary>
/// <see cref="V2TreeFrames"/>: the byte-for-byte path for <c>tree</c>, <c>graft</c> (by author) and <c>prune</c> must
/// write what the JSON writer writes, read what the JSON reader reads, and take nothing the JSON reader would refuse.
/// </summary>
public sealed class V2TreeFramesTests
{
    [Fact]
    public void Every_tree_frame_form_is_written_as_the_JSON_writer_writes_it_and_read_back_as_the_JSON_reader_reads_it()
    {
        var authors = new V2Authors();
        foreach (IGossipFrame frame in Forms(authors))
        {
            var output = new ArrayBufferWriter<byte>();
            int written = V2TreeFrames.TryWriteLine(frame, authors, output);

            byte[] json = V2Frames.Encode(frame, authors); // the Utf8JsonWriter path
            Assert.Equal(Encoding.ASCII.GetString(json) + "\n", Encoding.ASCII.GetString(output.WrittenSpan));
            Assert.Equal(json.Length + 1, written);

            Assert.True(V2TreeFrames.TryRead(json, authors, out IGossipFrame? fast), Encoding.ASCII.GetString(json));
            Assert.True(V2FrameReader.TryReadJson(json, authors, 64, out IGossipFrame? slow, out string? error), error);
            Assert.Equal(Saturated(frame), fast);
            Assert.Equal(slow, fast);
        }
    }

    [Fact]
    public void Other_frames_are_left_to_the_JSON_writer()
    {
        var authors = new V2Authors();
        foreach ((IGossipFrame frame, _) in WireFrames.All(authors))
        {
            if (frame is PlumtreeGraft { Id: null } or PlumtreePrune)
            {
                continue;
            }

            var output = new ArrayBufferWriter<byte>();
            Assert.Equal(0, V2TreeFrames.TryWriteLine(frame, authors, output));
            Assert.Equal(0, output.WrittenCount);
        }
    }

    [Fact]
    public void A_frame_naming_an_author_not_interned_throws_before_a_byte_is_written()
    {
        var authors = new V2Authors();
        var output = new ArrayBufferWriter<byte>();

        Assert.ThrowsAny<ArgumentException>(() => V2TreeFrames.TryWriteLine(new PlumtreeBeacon(5, 1), authors, output));
        Assert.ThrowsAny<ArgumentException>(() => V2TreeFrames.TryWriteLine(new PlumtreePrune(5, false) { Rooted = true }, authors, output));
        int a = authors.Intern(WireFrames.Key);
        Assert.ThrowsAny<ArgumentException>(() => V2TreeFrames.TryWriteLine(new PlumtreeBeacon(a, 0), authors, output));
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
    public void Any_other_spelling_is_left_to_the_JSON_reader_which_decides_it(string template)
    {
        var authors = new V2Authors();
        authors.Intern(WireFrames.Key);
        string unknown = Convert.ToBase64String(new byte[32]) + ".ed25519";
        byte[] line = Encoding.ASCII.GetBytes(template.Replace("UNKNOWN", unknown).Replace("KEY", WireFrames.Key));

        Assert.False(V2TreeFrames.TryRead(line, authors, out IGossipFrame? frame));
        Assert.Null(frame);

        // The full reader still reads what is valid (and interns the unknown author), and refuses the rest.
        bool valid = V2FrameReader.TryRead(line, authors, 64, out IGossipFrame? read, out _);
        Assert.Equal(valid, V2FrameReader.TryReadJson(line, authors, 64, out IGossipFrame? json, out _));
        Assert.Equal(json, read);
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
            if (V2TreeFrames.TryRead(line, authors, out IGossipFrame? fast))
            {
                taken++;
                Assert.True(V2FrameReader.TryReadJson(line, authors, 64, out IGossipFrame? json, out string? error), $"{Encoding.ASCII.GetString(line)}: {error}");
                Assert.Equal(json, fast);
            }
        }

        Assert.InRange(taken, 1, 20_000); // some mutations keep the form (a digit of h, a flag): the comparison ran
    }

    /// <summary>Every form the writer gives these frames, with two authors.</summary>
    private static IEnumerable<IGossipFrame> Forms(V2Authors authors)
    {
        int a = authors.Intern(WireFrames.Key);
        int b = authors.Intern(WireFrames.Key2);
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

    /// <summary>The frame as it reads back: hop counts saturate on the wire.</summary>
    private static IGossipFrame Saturated(IGossipFrame frame) =>
        frame is PlumtreeBeacon beacon ? beacon with { Hops = Math.Min(beacon.Hops, V2Frames.MaxHops) } : frame;
}
