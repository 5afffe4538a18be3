using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using SecureGossip.Protocol;

namespace SecureGossip.Tests.Protocol.Wire;

/// <summary><see cref="V1LineWriter"/>: a line and its newline into a connection's output.</summary>
public sealed class V1LineWriterTests
{
    [Fact]
    public void Each_line_is_written_with_its_newline_and_the_bytes_counted()
    {
        var output = new ArrayBufferWriter<byte>(4);

        int first = V1LineWriter.WriteLine("{\"a\":1}"u8, output);
        int empty = V1LineWriter.WriteLine([], output);
        int second = V1LineWriter.WriteLine("{\"b\":2}"u8, output);

        Assert.Equal("{\"a\":1}\n\n{\"b\":2}\n", Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal([8, 1, 8], new[] { first, empty, second });
    }

    [Fact]
    public async Task A_line_longer_than_the_output_has_at_hand_is_written_across_segments()
    {
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 64, pauseWriterThreshold: 0));
        byte[] longLine = Encoding.UTF8.GetBytes("{\"text\":\"" + new string('x', 100_000) + "\"}");

        V1LineWriter.WriteLine("{}"u8, pipe.Writer);
        int written = V1LineWriter.WriteLine(longLine, pipe.Writer);
        V1LineWriter.WriteLine("{}"u8, pipe.Writer);
        await pipe.Writer.CompleteAsync();

        ReadResult result;
        while (!(result = await pipe.Reader.ReadAsync()).IsCompleted)
        {
            pipe.Reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }

        Assert.Equal(longLine.Length + 1, written);
        Assert.Equal([.. "{}\n"u8, .. longLine, (byte)'\n', .. "{}\n"u8], result.Buffer.ToArray());
        pipe.Reader.AdvanceTo(result.Buffer.End);
    }
}
