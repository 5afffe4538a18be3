using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using SecureGossip.Protocol;

namespace SecureGossip.Tests.Protocol.Wire;

/// <summary>
/// <see cref="LineFramer"/>: NDJSON framing with a line limit (docs/PROTOCOL.md §4.1), over bytes that arrive in
/// pieces and lie in several segments, as the node's read loop has always framed them.
/// </summary>
public sealed class LineFramerTests
{
    private const int Max = 16;

    [Fact]
    public void Lines_across_segment_boundaries_come_out_whole()
    {
        var framer = new LineFramer(Max);
        ReadOnlySequence<byte> buffer = Segments.Of(Bytes("ab"), Bytes("c\nd"), Bytes("\n"), Bytes(""), Bytes("\nef\n"), Bytes("gh"));

        Assert.Equal([Line("abc"), Line("d"), Line(""), Line("ef")], Frame(framer, ref buffer, completed: false));
        Assert.Equal("gh", Text(buffer)); // the start of a line yet to end, left for the next read

        // The pipe hands the same unconsumed bytes back with what has arrived since.
        buffer = Segments.Of(Bytes("g"), Bytes("h"), Bytes("i\nj"));
        Assert.Equal([Line("ghi")], Frame(framer, ref buffer, completed: false));
        Assert.Equal("j", Text(buffer));
    }

    [Fact]
    public void A_line_of_the_limit_is_kept_and_one_byte_longer_is_reported_with_its_length_and_skipped()
    {
        var framer = new LineFramer(Max);
        string atLimit = new('a', Max);
        ReadOnlySequence<byte> buffer = Segments.Of(Bytes(atLimit + "\n" + new string('b', 9)), Bytes(new string('b', 8) + "\nok\n"));

        Assert.Equal([Line(atLimit), TooLong(Max + 1), Line("ok")], Frame(framer, ref buffer, completed: false));
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void A_line_that_outgrows_the_limit_before_its_end_arrives_is_reported_once_and_dropped_as_it_arrives()
    {
        var framer = new LineFramer(Max);

        ReadOnlySequence<byte> buffer = Segments.Of(Bytes(new string('x', 10)));
        Assert.Empty(Frame(framer, ref buffer, completed: false));
        Assert.Equal(10, buffer.Length); // kept: it may still end in time

        buffer = Segments.Of(Bytes(new string('x', 10)), Bytes(new string('x', 10)));
        Assert.Equal([TooLong(20)], Frame(framer, ref buffer, completed: false)); // the length known when it went over
        Assert.True(buffer.IsEmpty); // dropped, not buffered: memory is bounded by the limit, not by the peer

        buffer = Segments.Of(Bytes(new string('y', 100)));
        Assert.Empty(Frame(framer, ref buffer, completed: false));
        Assert.True(buffer.IsEmpty);

        buffer = Segments.Of(Bytes("zz\nok\n"));
        Assert.Equal([Line("ok")], Frame(framer, ref buffer, completed: false)); // "zz" ended the dropped line
    }

    [Fact]
    public void At_the_end_of_the_stream_the_unterminated_tail_is_a_line_unless_it_is_part_of_one_too_long()
    {
        var framer = new LineFramer(Max);
        ReadOnlySequence<byte> buffer = Segments.Of(Bytes("a\nla"), Bytes("st"));
        Assert.Equal([Line("a")], Frame(framer, ref buffer, completed: false));
        Assert.Equal([Line("last")], Frame(framer, ref buffer, completed: true));
        Assert.True(buffer.IsEmpty);
        Assert.Empty(Frame(framer, ref buffer, completed: true)); // an empty tail is no line

        var tooLong = new LineFramer(Max);
        buffer = Segments.Of(Bytes("a\n"), Bytes(new string('x', Max + 4)));
        Assert.Equal([Line("a"), TooLong(Max + 4)], Frame(tooLong, ref buffer, completed: true));

        var discarding = new LineFramer(Max);
        buffer = Segments.Of(Bytes(new string('x', Max + 1)));
        Assert.Equal([TooLong(Max + 1)], Frame(discarding, ref buffer, completed: false));
        buffer = Segments.Of(Bytes("abc"));
        Assert.Empty(Frame(discarding, ref buffer, completed: true)); // the end of the dropped line, not a line of its own
    }

    [Fact]
    public void The_framer_frames_random_streams_exactly_as_the_read_loop_it_replaces()
    {
        for (int seed = 0; seed < 2000; seed++)
        {
            var random = new Random(seed);
            int max = new[] { 0, 1, 5, Max }[random.Next(4)];
            byte[] stream = RandomStream(random, max);
            int[] cuts = [.. Enumerable.Range(0, random.Next(0, 12)).Select(_ => random.Next(0, stream.Length + 1)).Distinct().Order()];

            var loop = new TodaysReadLoop(max);
            List<Framed> expected = Drive(stream, cuts, loop.Step);

            var framer = new LineFramer(max);
            List<Framed> framed = Drive(stream, cuts, (buffer, completed, events) =>
            {
                events.AddRange(Frame(framer, ref buffer, completed));
                return buffer;
            });

            Assert.True(expected.SequenceEqual(framed), $"seed {seed}, max {max}: expected [{string.Join(", ", expected)}], framed [{string.Join(", ", framed)}]");
        }
    }

    [Fact]
    public async Task Over_a_pipe_lines_written_in_small_pieces_come_out_whole()
    {
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 16, pauseWriterThreshold: 0));
        var random = new Random(5);
        string[] lines = [.. Enumerable.Range(0, 200).Select(i => $"{{\"n\":{i},\"pad\":\"{new string('p', random.Next(0, 40))}\"}}")];
        byte[] stream = Encoding.UTF8.GetBytes(string.Join("\n", lines.Take(100)) + "\n" + new string('x', 300) + "\n" + string.Join("\n", lines.Skip(100)));

        Task writing = Task.Run(async () =>
        {
            var pieces = new Random(6);
            for (int offset = 0; offset < stream.Length;)
            {
                int piece = Math.Min(pieces.Next(1, 24), stream.Length - offset);
                await pipe.Writer.WriteAsync(stream.AsMemory(offset, piece));
                offset += piece;
            }

            await pipe.Writer.CompleteAsync();
        });

        var framer = new LineFramer(64);
        var framed = new List<Framed>();
        while (true)
        {
            ReadResult result = await pipe.Reader.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            framed.AddRange(Frame(framer, ref buffer, result.IsCompleted));
            pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        await writing.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(lines.Take(100).Select(Line), framed.Take(100));
        Assert.True(framed[100].TooLong > 64, $"the long line is reported once: {framed[100]}");
        Assert.Equal(lines.Skip(100).Select(Line), framed.Skip(101)); // the last line, unterminated, included
    }

    private static List<Framed> Frame(LineFramer framer, ref ReadOnlySequence<byte> buffer, bool completed)
    {
        var events = new List<Framed>();
        while (framer.TryReadLine(ref buffer, completed, out ReadOnlySequence<byte> line, out long tooLong))
        {
            events.Add(tooLong > 0 ? TooLong(tooLong) : Line(Text(line)));
            Assert.True(tooLong == 0 || line.IsEmpty);
        }

        return events;
    }

    /// <summary>
    /// Feeds <paramref name="stream"/> to <paramref name="step"/> as a pipe would: in reads ending at each cut (the
    /// last one completing the stream), each read holding what the step left unconsumed plus the new piece.
    /// </summary>
    private static List<Framed> Drive(byte[] stream, int[] cuts, Func<ReadOnlySequence<byte>, bool, List<Framed>, ReadOnlySequence<byte>> step)
    {
        var events = new List<Framed>();
        var pending = new List<ReadOnlyMemory<byte>>();
        int offset = 0;
        for (int read = 0; read <= cuts.Length; read++)
        {
            int end = read < cuts.Length ? cuts[read] : stream.Length;
            pending.Add(stream.AsMemory(offset, end - offset));
            offset = end;
            ReadOnlySequence<byte> rest = step(Segments.Of([.. pending]), read == cuts.Length, events);
            pending.Clear();
            foreach (ReadOnlyMemory<byte> segment in rest)
            {
                pending.Add(segment);
            }
        }

        return events;
    }

    private static byte[] RandomStream(Random random, int max)
    {
        var bytes = new List<byte>();
        int lines = random.Next(0, 20);
        for (int i = 0; i < lines; i++)
        {
            int length = random.Next(7) switch
            {
                0 => 0,
                1 => Math.Max(0, max - 1),
                2 => max,
                3 => max + 1,
                4 => random.Next(max + 2, (4 * max) + 8),
                _ => random.Next(0, max + 1),
            };
            bytes.AddRange(Enumerable.Range(0, length).Select(_ => (byte)"ab{}\r\" "[random.Next(7)]));
            if (i < lines - 1 || random.Next(2) == 0)
            {
                bytes.Add((byte)'\n');
            }
        }

        return [.. bytes];
    }

    private static ReadOnlyMemory<byte> Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(ReadOnlySequence<byte> bytes) => Encoding.UTF8.GetString(bytes);

    private static Framed Line(string text) => new(text, 0);

    private static Framed TooLong(long length) => new(null, length);

    /// <summary>A line, or a line too long (<see cref="TooLong"/> &gt; 0) with the length reported.</summary>
    private readonly record struct Framed(string? Line, long TooLong)
    {
        public override string ToString() => Line is null ? $"too long ({TooLong})" : $"\"{Line}\"";
    }

    /// <summary>
    /// The framing of GossipNode.ReadLoopAsync before <see cref="LineFramer"/>, one read at a time and without the
    /// I/O: the reference the framer must match byte for byte and report for report.
    /// </summary>
    private sealed class TodaysReadLoop(int maxLine)
    {
        private bool _discarding;

        public ReadOnlySequence<byte> Step(ReadOnlySequence<byte> buffer, bool completed, List<Framed> events)
        {
            while (buffer.PositionOf((byte)'\n') is SequencePosition newline)
            {
                ReadOnlySequence<byte> line = buffer.Slice(0, newline);
                buffer = buffer.Slice(buffer.GetPosition(1, newline));
                if (_discarding)
                {
                    _discarding = false;
                    continue;
                }

                if (line.Length > maxLine)
                {
                    events.Add(TooLong(line.Length));
                    continue;
                }

                events.Add(Line(Text(line)));
            }

            if (!_discarding && buffer.Length > maxLine)
            {
                _discarding = true;
                events.Add(TooLong(buffer.Length));
            }

            if (_discarding)
            {
                buffer = buffer.Slice(buffer.End);
            }

            if (completed && !_discarding && buffer.Length > 0)
            {
                events.Add(Line(Text(buffer)));
                buffer = buffer.Slice(buffer.End);
            }

            return buffer;
        }
    }
}
