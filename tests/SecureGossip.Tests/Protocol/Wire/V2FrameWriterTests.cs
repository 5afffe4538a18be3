using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using SecureGossip.Protocol;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Tests.Protocol.Wire;

/// <summary><see cref="V2FrameWriter"/>: v2 frames written straight into a connection's output.</summary>
public sealed class V2FrameWriterTests
{
    [Fact]
    public async Task Frames_written_into_a_pipe_are_each_type_s_wire_text_and_a_newline()
    {
        var authors = new V2Authors();
        (IGossipFrame Frame, string Text)[] frames = WireFrames.All(authors);
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 32, pauseWriterThreshold: 0));

        int written = 0;
        foreach ((IGossipFrame frame, _) in frames)
        {
            written += V2FrameWriter.WriteLine(frame, authors, pipe.Writer);
        }

        await pipe.Writer.CompleteAsync();
        string expected = string.Concat(frames.Select(f => f.Text + "\n"));
        Assert.Equal(expected, await ReadAllAsync(pipe.Reader));
        Assert.Equal(Encoding.UTF8.GetByteCount(expected), written);
    }

    [Fact]
    public void Write_appends_after_what_the_output_holds_and_Encode_returns_the_same_bytes()
    {
        var authors = new V2Authors();
        foreach ((IGossipFrame frame, string text) in WireFrames.All(authors))
        {
            var output = new ArrayBufferWriter<byte>();
            output.Write("abc"u8);

            V2FrameWriter.Write(frame, authors, output);

            Assert.Equal("abc" + text, Encoding.UTF8.GetString(output.WrittenSpan));
            Assert.Equal(text, Encoding.UTF8.GetString(V2Frames.Encode(frame, authors)));
        }
    }

    [Fact]
    public void A_frame_that_cannot_go_on_the_wire_throws_before_a_byte_is_written()
    {
        var authors = new V2Authors();
        (IGossipFrame Frame, string Text)[] good = WireFrames.All(authors);
        int a = authors.Intern(WireFrames.Key);
        MessageId[] manyIds = [.. Enumerable.Range(1, 600).Select(i => MessageId.FromDigest(a, (UInt128)i))];
        PlumtreeFrontierEntry[] manyEntries = [.. Enumerable.Range(0, 300).Select(i => new PlumtreeFrontierEntry(a, i, [i + 2]))];

        // Each breaks a rule late in the frame, after everything a writer streaming as it checks would have written.
        (IGossipFrame Frame, Type Exception)[] bad =
        [
            (new PlumtreeMessage(default, 3, PlumtreeSendKind.Eager, 1, false) { Line = "{\n}"u8.ToArray() }, typeof(ArgumentException)),
            (new PlumtreeMessage(default, 2, (PlumtreeSendKind)9, 1, false) { Line = "{}"u8.ToArray() }, typeof(ArgumentException)),
            (new PlumtreeIHave([.. manyIds, MessageId.FromDigest(a, 0)], [.. manyIds.Select(_ => 1), 1]), typeof(ArgumentException)),
            (new PlumtreeGraft(null, a + 100), typeof(ArgumentOutOfRangeException)),
            (new PlumtreePrune(-1, false), typeof(ArgumentOutOfRangeException)),
            (new PlumtreeSync(true, [.. manyEntries, PlumtreeFrontierEntry.ForDigests(a, [1, 2, 0])]), typeof(ArgumentException)),
            (new PlumtreeSync(false, [.. manyEntries, new PlumtreeFrontierEntry(a + 100, 0, [])]), typeof(ArgumentOutOfRangeException)),
            (new PlumtreeWant([.. manyIds, new MessageId(a, MessageId.Unsequenced)]), typeof(ArgumentException)),
            (new PlumtreeWant([.. manyIds, new MessageId(a + 100, 4)]), typeof(ArgumentOutOfRangeException)),
        ];

        foreach ((IGossipFrame frame, Type exception) in bad)
        {
            var output = new ArrayBufferWriter<byte>();
            output.Write("abc"u8);

            Assert.Throws(exception, () => V2FrameWriter.Write(frame, authors, output));
            Assert.Throws(exception, () => V2FrameWriter.WriteLine(frame, authors, output));

            Assert.Equal("abc", Encoding.UTF8.GetString(output.WrittenSpan));
        }

        // A failed frame leaves nothing behind for the next one.
        foreach ((IGossipFrame frame, string text) in good)
        {
            var output = new ArrayBufferWriter<byte>();
            V2FrameWriter.Write(frame, authors, output);
            Assert.Equal(text, Encoding.UTF8.GetString(output.WrittenSpan));
        }
    }

    [Fact]
    public void Frames_written_on_many_threads_at_once_are_each_whole()
    {
        var authors = new V2Authors();
        (IGossipFrame Frame, string Text)[] frames = WireFrames.All(authors);
        string?[] wrong = new string?[4000];

        Parallel.For(0, wrong.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            (IGossipFrame frame, string text) = frames[i % frames.Length];
            var output = new ArrayBufferWriter<byte>(16);
            V2FrameWriter.Write(frame, authors, output);
            string written = Encoding.UTF8.GetString(output.WrittenSpan);
            wrong[i] = written == text ? null : written;
        });

        Assert.All(wrong, Assert.Null);
    }

    private static async Task<string> ReadAllAsync(PipeReader reader)
    {
        while (true)
        {
            ReadResult result = await reader.ReadAsync();
            if (result.IsCompleted)
            {
                string text = Encoding.UTF8.GetString(result.Buffer);
                reader.AdvanceTo(result.Buffer.End);
                return text;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }
}
