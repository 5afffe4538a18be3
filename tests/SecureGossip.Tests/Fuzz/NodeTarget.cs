using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using SecureGossip.Crypto;
using SecureGossip.Protocol;
using SecureGossip.Protocol.Core;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Fuzz;

/// <summary>
/// The whole receive path: a real <see cref="GossipNode"/> fed mutated lines, as a v1 node (through its line entry
/// point) or as a v2 node (through a real in-memory peer link that said hello, lines and frames alike). Oracles:
/// nothing the node delivers is anything but a payload a test key signed (compared byte for byte, the author key
/// decoded by the test), a signed seq is the one signed, the receiver's own messages never come back, every line
/// has an outcome (v1), the node answers with frames that decode, and (v2, where acceptance is by id) no message
/// is delivered twice and every genuine message is still accepted after all the mutants: none can poison it.
/// </summary>
internal sealed class NodeTarget : IDisposable
{
    private const int Batch = 250;

    private static readonly TimeSpan s_batchTimeout = TimeSpan.FromSeconds(60);

    private readonly FuzzCorpus _corpus;
    private readonly ParserTargets _frames;
    private readonly bool _v2;
    private long _markers;

    public NodeTarget(FuzzCorpus corpus, bool v2)
    {
        _corpus = corpus;
        _v2 = v2;
        _frames = new ParserTargets(corpus);
    }

    public string Name => _v2 ? "node-v2" : "node-v1";

    /// <summary>Messages delivered and matched to a genuine one.</summary>
    public long Delivered { get; private set; }

    /// <summary>Lines the node wrote back to the fuzzing peer that were checked to decode.</summary>
    public long FramesFromNode => Interlocked.Read(ref _framesFromNode);

    /// <summary>Links the node closed on the fuzzing peer (a defence may do so); each was replaced.</summary>
    public long LinksClosed { get; private set; }

    private long _framesFromNode;

    /// <summary>Runs inputs <paramref name="start"/> … in epochs of <paramref name="epoch"/> inputs, each on a fresh node.</summary>
    public async Task<FuzzReport> RunAsync(FuzzRunner runner, long start, long count, int epoch = 20_000)
    {
        long startTime = Stopwatch.GetTimestamp();
        long done = 0;
        while (done < count && runner.Failures.Count < runner.MaxFailures)
        {
            long epochCount = Math.Min(epoch, count - done);
            await using (var session = await Session.StartAsync(this))
            {
                for (long b = 0; b < epochCount && runner.Failures.Count < runner.MaxFailures; b += Batch)
                {
                    long first = start + done + b;
                    List<(long Index, FuzzInput Input)> inputs = [.. Enumerable.Range(0, (int)Math.Min(Batch, epochCount - b)).Select(k => (first + k, Generate(runner.Seed, first + k)))];
                    runner.Begin(Name, first, inputs[0].Input.Bytes, $"batch of {inputs.Count} from input {first}");
                    string? problem = await session.RunBatchAsync(inputs.Select(i => i.Input.Bytes));
                    runner.End();
                    if (problem is not null)
                    {
                        await ReportAsync(runner, inputs, problem);
                    }
                }

                if (_v2 && runner.Failures.Count == 0)
                {
                    // Liveness: after every mutant, each genuine message is still accepted, exactly once.
                    runner.Begin(Name, start + done + epochCount, [], "genuine lines after the epoch");
                    string? problem = await session.RunBatchAsync(_corpus.Foreign.Select(m => m.Envelope().ToWire(null)), expectAll: true);
                    runner.End();
                    if (problem is not null)
                    {
                        runner.Fail(Name, start + done, "epoch liveness", [], problem);
                    }
                }
            }

            done += epochCount;
        }

        string detail = $"deliveries checked {Delivered:N0}, frames from the node decoded {FramesFromNode:N0}, links closed by the node {LinksClosed}";
        return new FuzzReport(Name, runner.Seed, done, Stopwatch.GetElapsedTime(startTime), [.. runner.Failures], detail);
    }

    /// <summary>Input <paramref name="index"/>: a mutated line; on v2 links often inside a msg frame, or another frame.</summary>
    public FuzzInput Generate(int seed, long index)
    {
        Random random = FuzzRunner.InputRandom(seed, Name, index);
        int kind = random.Next(_v2 ? 10 : 8);
        if (kind == 0)
        {
            return FuzzMutator.Noise(random);
        }

        if (kind >= 8)
        {
            (byte[] bytes, string description, _) = _frames.FrameInput(random);
            return new FuzzInput { Bytes = bytes, Description = description };
        }

        FuzzInput line = FuzzMutator.Mutate(_corpus, random, ParserTargets.MaxDepth);
        if (!_v2 || random.Next(3) == 0)
        {
            return line;
        }

        string k = "egs"[random.Next(3)].ToString();
        byte[] frame = [.. Encoding.ASCII.GetBytes($"{{\"sg2\":\"msg\",\"k\":\"{k}\",\"h\":{random.Next(4)},\"m\":"), .. line.Bytes, (byte)'}'];
        return new FuzzInput { Bytes = frame, Description = "msg frame of " + line.Description, Source = line.Source };
    }

    /// <summary>Finds the input that breaks the property alone, on a fresh node, and reports it.</summary>
    private async Task ReportAsync(FuzzRunner runner, List<(long Index, FuzzInput Input)> inputs, string problem)
    {
        foreach ((long index, FuzzInput input) in inputs)
        {
            await using var single = await Session.StartAsync(this);
            string? alone = await single.RunBatchAsync([input.Bytes]);
            if (alone is not null)
            {
                runner.Fail(Name, index, input.Description, input.Bytes, alone);
                return;
            }
        }

        runner.Fail(Name, inputs[0].Index, $"batch of {inputs.Count} (no single input reproduces it alone)", inputs[0].Input.Bytes, problem);
    }

    private byte[] NextMarker(out string payload)
    {
        long n = Interlocked.Increment(ref _markers);
        GenuineMessage marker = _corpus.Sign(0, FuzzJson.Object(FuzzJson.Member("marker", FuzzJson.Integer(n))), seq: (1L << 52) + n, signSeq: false);
        payload = Encoding.UTF8.GetString(marker.Delivered);
        return marker.Envelope().ToWire(null);
    }

    public void Dispose() => _frames.Dispose();

    /// <summary>One receiving node and, for v2, the link the fuzzer talks to it over.</summary>
    private sealed class Session : IAsyncDisposable
    {
        private readonly NodeTarget _target;
        private readonly GossipNode _node;
        private readonly ConcurrentQueue<GossipMessage> _inbox = new();
        private readonly Dictionary<UInt128, int> _deliveries = [];
        private readonly V2Authors _readBack = new();
        private readonly CancellationTokenSource _stop = new();
        private GossipConnection? _peer;
        private Task _link = Task.CompletedTask;
        private Task _drain = Task.CompletedTask;
        private string? _drainProblem;
        private volatile string? _awaitedMarker;
        private TaskCompletionSource _markerSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private Session(NodeTarget target)
        {
            _target = target;
            _node = new GossipNode(new GossipNodeOptions
            {
                Keys = GossipKeys.FromSeed(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes($"secure-gossip fuzz key {FuzzCorpus.Receiver}"))),
                Interval = Timeout.InfiniteTimeSpan,
                AnnounceV2 = target._v2,
                CatchUpV1Peers = false,
            });
            _node.MessageReceived += (_, message) =>
            {
                _inbox.Enqueue(message);
                if (message.ToString() == _awaitedMarker)
                {
                    _markerSeen.TrySetResult();
                }
            };
        }

        public static async Task<Session> StartAsync(NodeTarget target)
        {
            var session = new Session(target);
            if (target._v2)
            {
                await session.ConnectAsync();
            }

            return session;
        }

        private async Task ConnectAsync()
        {
            (GossipConnection left, GossipConnection right) = InMemoryTransport.CreatePair();
            _peer = right;
            _link = _node.RunConnectionAsync(left);
            _drain = DrainAsync(right.Input);
            // The fuzzing peer is a v2 node under a key of its own.
            using GossipKeys peerKeys = GossipKeys.FromSeed(new byte[32]);
            await WriteAsync([V2Hello.Create(peerKeys.Public, 1024 * 1024 + 1024)]);
        }

        /// <summary>Everything the node says must be a v1 line or a frame that decodes.</summary>
        private async Task DrainAsync(PipeReader reader)
        {
            try
            {
                while (true)
                {
                    ReadResult result = await reader.ReadAsync(_stop.Token);
                    ReadOnlySequence<byte> buffer = result.Buffer;
                    while (buffer.PositionOf((byte)'\n') is SequencePosition newline)
                    {
                        byte[] line = buffer.Slice(0, newline).ToArray();
                        buffer = buffer.Slice(buffer.GetPosition(1, newline));
                        if (V2Hello.IsFrame(line))
                        {
                            if (!V2Frames.TryDecode(line, _readBack, ParserTargets.MaxDepth, out _, out string? error))
                            {
                                _drainProblem ??= $"the node wrote a frame that does not decode ({error}): {Encoding.UTF8.GetString(line.AsSpan(0, Math.Min(line.Length, 300)))}";
                            }

                            Interlocked.Increment(ref _target._framesFromNode);
                        }
                    }

                    reader.AdvanceTo(buffer.Start, result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        break;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
            }
        }

        private async Task WriteAsync(IEnumerable<byte[]> lines)
        {
            PipeWriter output = _peer!.Output;
            foreach (byte[] line in lines)
            {
                output.Write(line);
                output.Write("\n"u8);
                if (output.UnflushedBytes > 64 * 1024)
                {
                    await output.FlushAsync();
                }
            }

            await output.FlushAsync();
        }

        /// <summary>Feeds the lines, waits until the node has dealt with all of them, and checks the oracles; returns the problem, if any.</summary>
        public async Task<string?> RunBatchAsync(IEnumerable<byte[]> lines, bool expectAll = false)
        {
            GossipNodeStatistics before = _node.Statistics;
            int sent = 0;
            int hellos = 0;
            if (!_target._v2)
            {
                foreach (byte[] line in lines)
                {
                    // A hello is the one line the node counts without an outcome (it is not a message).
                    sent++;
                    if (KnownFindings.HelloThrows(line))
                    {
                        sent--;
                        continue;
                    }

                    hellos += line.Length > 8 && V2Hello.IsFrame(line.AsSpan(0, Math.Min(16, line.Length))) && V2Hello.TryReadHello(line) > 0 ? 1 : 0;
                    try
                    {
                        await _node.HandleLineAsync(new ReadOnlySequence<byte>(line), CancellationToken.None);
                    }
                    catch (Exception e)
                    {
                        return $"an exception escaped the receive path: {e}";
                    }
                }

                await _node.WhenIdleAsync().WaitAsync(s_batchTimeout);
            }
            else
            {
                List<byte[]> batch = [.. lines.Where(l => !KnownFindings.HelloThrows(l) && !KnownFindings.FrameDecodeThrows(l))];
                sent = batch.Count;
                byte[] marker = _target.NextMarker(out string markerPayload);
                _markerSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _awaitedMarker = markerPayload;
                try
                {
                    await WriteAsync([.. batch, marker]);
                }
                catch (Exception e) when (e is IOException or InvalidOperationException)
                {
                }

                // The marker, a genuine line sent last, is delivered only after every line before it was handled.
                using var timeout = new CancellationTokenSource(s_batchTimeout);
                while (!_markerSeen.Task.IsCompleted)
                {
                    Task done = await Task.WhenAny(_markerSeen.Task, _link, Task.Delay(Timeout.Infinite, timeout.Token));
                    if (done == _link && !_markerSeen.Task.IsCompleted)
                    {
                        // The node closed the link (a defence against this peer): carry on over a new one.
                        _target.LinksClosed++;
                        await _drain;
                        await ConnectAsync();
                        await WriteAsync([marker]);
                    }
                    else if (timeout.IsCancellationRequested)
                    {
                        return $"HANG: the node did not get through the batch within {s_batchTimeout.TotalSeconds} s";
                    }
                }

                await _node.WhenIdleAsync().WaitAsync(s_batchTimeout);
            }

            return Check(before, sent, hellos, expectAll);
        }

        private string? Check(GossipNodeStatistics before, int sent, int hellos, bool expectAll)
        {
            if (_drainProblem is { } drain)
            {
                return drain;
            }

            while (_inbox.TryDequeue(out GossipMessage? message))
            {
                GenuineMessage? genuine = _target._corpus.Find(message.Author, message.PayloadUtf8.Span);
                if (genuine is null)
                {
                    return $"FORGERY: delivered a message no test key signed: author \"{message.Author}\", payload {message}";
                }

                if (genuine.Author == FuzzCorpus.Receiver)
                {
                    return "the node delivered its own message back to itself";
                }

                if (message.SequenceSigned != genuine.SignedSeq.HasValue || (message.SequenceSigned && message.Sequence != genuine.SignedSeq))
                {
                    return $"signed seq: delivered ({message.SequenceSigned}, {message.Sequence}), signed {genuine.SignedSeq?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}";
                }

                _target.Delivered++;
                int times = _deliveries.GetValueOrDefault(genuine.Id) + 1;
                _deliveries[genuine.Id] = times;
                if (_target._v2 && times > 1 && message.ToString() != _awaitedMarker)
                {
                    return $"a message accepted by id was delivered {times} times: {message}";
                }
            }

            if (!_target._v2)
            {
                GossipNodeStatistics after = _node.Statistics;
                long outcomes = (after.MessagesAccepted + after.DroppedMalformed + after.DroppedBadSignature + after.DroppedOld + after.DroppedOwn + after.DroppedTooLong)
                    - (before.MessagesAccepted + before.DroppedMalformed + before.DroppedBadSignature + before.DroppedOld + before.DroppedOwn + before.DroppedTooLong);
                if (after.LinesReceived - before.LinesReceived != sent || outcomes + hellos != sent)
                {
                    return $"{sent} lines in, {after.LinesReceived - before.LinesReceived} counted, {outcomes} with an outcome";
                }
            }

            if (expectAll)
            {
                List<GenuineMessage> missing = [.. _target._corpus.Foreign.Where(m => _deliveries.GetValueOrDefault(m.Id) != 1)];
                if (missing.Count > 0)
                {
                    return $"{missing.Count} genuine messages were not delivered exactly once after the mutants, e.g. author {missing[0].Author} seq {missing[0].Seq} ({_deliveries.GetValueOrDefault(missing[0].Id)} times)";
                }
            }

            return null;
        }

        public async ValueTask DisposeAsync()
        {
            if (_peer is not null)
            {
                await _peer.DisposeAsync();
            }

            await _node.DisposeAsync();
            await _stop.CancelAsync();
            await _drain;
            _node.Keys.Dispose();
            _stop.Dispose();
        }
    }
}
