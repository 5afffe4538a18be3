using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using SecureGossip.Crypto;
using SecureGossip.Protocol;

namespace SecureGossip.Benchmarks;

/// <summary>
/// Framing alone, over a real pipe fed in 4 KiB writes: the read loop's inline framing (GossipNode.ReadLoopAsync as it
/// was before <see cref="LineFramer"/>) against <see cref="LineFramer"/>, on typical lines and on one line of 1 MiB,
/// the most a node accepts, which the inline loop searches again for a newline on every read.
/// </summary>
[MemoryDiagnoser]
public class LineFramingBenchmarks
{
    private const int MaxLine = (1 << 20) + 1024;
    private const int Chunk = 4096;
    private byte[] _stream = null!;

    [Params("1,000 lines", "one 1 MiB line")]
    public string Input { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        if (Input == "1,000 lines")
        {
            using GossipKeys author = GossipKeys.FromSeed(new byte[32]);
            _stream = [.. WireFixtures.Lines(author, 1000).SelectMany(l => l.Append((byte)'\n'))];
        }
        else
        {
            _stream = [(byte)'"', .. Enumerable.Repeat((byte)'x', (1 << 20) - 2), (byte)'"', (byte)'\n'];
        }
    }

    [Benchmark(Baseline = true, Description = "inline framing (read loop before LineFramer)")]
    public long Inline()
    {
        bool discarding = false;
        return Run((ref ReadOnlySequence<byte> buffer, bool completed) =>
        {
            long framed = 0;
            while (buffer.PositionOf((byte)'\n') is SequencePosition newline)
            {
                ReadOnlySequence<byte> line = buffer.Slice(0, newline);
                buffer = buffer.Slice(buffer.GetPosition(1, newline));
                if (discarding)
                {
                    discarding = false;
                    continue;
                }

                framed += line.Length > MaxLine ? 1 : line.Length;
            }

            if (!discarding && buffer.Length > MaxLine)
            {
                discarding = true;
            }

            if (discarding)
            {
                buffer = buffer.Slice(buffer.End);
            }

            if (completed && !discarding && buffer.Length > 0)
            {
                framed += buffer.Length;
                buffer = buffer.Slice(buffer.End);
            }

            return framed;
        });
    }

    [Benchmark(Description = "LineFramer")]
    public long Framer()
    {
        var framer = new LineFramer(MaxLine);
        return Run((ref ReadOnlySequence<byte> buffer, bool completed) =>
        {
            long framed = 0;
            while (framer.TryReadLine(ref buffer, completed, out ReadOnlySequence<byte> line, out long tooLong))
            {
                framed += tooLong > 0 ? 1 : line.Length;
            }

            return framed;
        });
    }

    /// <summary>Writes the stream in chunks, framing what has arrived after each, as a read loop wakes per write.</summary>
    private long Run(FrameStep step)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        long framed = 0;
        for (int offset = 0; offset < _stream.Length; offset += Chunk)
        {
            pipe.Writer.Write(_stream.AsSpan(offset, Math.Min(Chunk, _stream.Length - offset)));
            bool last = offset + Chunk >= _stream.Length;
            if (last)
            {
                pipe.Writer.Complete();
            }
            else
            {
                _ = pipe.Writer.FlushAsync().GetAwaiter().GetResult();
            }

            pipe.Reader.TryRead(out ReadResult result);
            ReadOnlySequence<byte> buffer = result.Buffer;
            framed += step(ref buffer, result.IsCompleted);
            pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
        }

        pipe.Reader.Complete();
        return framed;
    }

    private delegate long FrameStep(ref ReadOnlySequence<byte> buffer, bool completed);
}
