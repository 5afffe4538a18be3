using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace SecureGossip.Harness;

/// <summary>
/// Two node processes over loopback TCP, each implementation with its own command-line node (sgossip node,
/// tests/interop/js-node.js): lines written to the sender's stdin, timed as they come out of the receiver's stdout.
/// </summary>
internal static partial class TcpScenario
{
    public static async Task<JsonObject> RunAsync(string impl, int burst, int pacedCount, int pacedRate)
    {
        await using Peer receiver = Peer.Start(impl, listen: true, port: 0);
        int port = await receiver.WaitForPortAsync();
        await using Peer sender = Peer.Start(impl, listen: false, port: port);
        await sender.WaitForConnectedAsync();

        // Burst: throughput.
        var burstResult = await MeasureAsync(sender, receiver, burst, rate: 0, tag: "b");

        // Paced: latency at a rate the link keeps up with.
        var paced = await MeasureAsync(sender, receiver, pacedCount, pacedRate, tag: "p");
        double[] latencies = [.. paced.Latencies.Order()];
        return new JsonObject
        {
            ["impl"] = impl,
            ["scenario"] = "tcp",
            ["burst_messages"] = burst,
            ["burst_received"] = burstResult.Received,
            ["burst_ms"] = burstResult.ElapsedMs,
            ["msgs_per_s"] = burstResult.Received / (burstResult.ElapsedMs / 1000),
            ["paced_messages"] = pacedCount,
            ["paced_rate"] = pacedRate,
            ["latency_p50_ms"] = Percentile(latencies, 0.50),
            ["latency_p99_ms"] = Percentile(latencies, 0.99),
        };
    }

    /// <summary>How long the receiver idles after each warm-up half: beyond the runtime's 100 ms call-counting delay and its background tier-1 compilation.</summary>
    private static readonly TimeSpan WarmUpPause = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// TCP ingest (steady state, after a warm-up): lines signed beforehand are written as fast as the socket takes them into a listening node
    /// process, which verifies them and prints each; the rate is counted on its stdout (lines only, not parsed), so
    /// no sender competes with the receiver for the cores.
    /// </summary>
    public static async Task<JsonObject> IngestAsync(string impl, byte[][] warmup, byte[][] lines)
    {
        await using Peer receiver = Peer.Start(impl, listen: true, port: 0);
        int port = await receiver.WaitForPortAsync();
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        // No wait for the node to log the connection: since v2 became the default it logs a link only once the link has
        // proved itself, and the connected socket buffers the warm-up until the node reads it.
        await socket.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));

        // Warm-up from another author, so both runtimes' JITs reach steady state before the measured lines. One batch is
        // not enough for .NET: its tiered compilation starts counting calls only once new methods stop appearing for
        // 100 ms, so a receiver fed without a pause runs its whole receive path as unoptimised tier-0 code. Hence two
        // halves, each followed by a pause in which the runtime promotes what the half ran hot (V8 tiers up as well).
        foreach (byte[][] half in new[] { warmup[..(warmup.Length / 2)], warmup[(warmup.Length / 2)..] })
        {
            Task<(long First, long Last, int Count)> warming = receiver.CountStdoutLinesAsync(half.Length, TimeSpan.FromSeconds(60));
            await socket.SendAsync((byte[])[.. half.SelectMany(l => l.Append((byte)'\n'))]);
            await warming;
            await Task.Delay(WarmUpPause);
        }

        byte[] payload = [.. lines.SelectMany(l => l.Append((byte)'\n'))];
        Task<(long First, long Last, int Count)> counting = receiver.CountStdoutLinesAsync(lines.Length, TimeSpan.FromSeconds(60));
        TimeSpan cpuBefore = receiver.ProcessorTime;
        long switchesBefore = receiver.ContextSwitches;
        long start = Stopwatch.GetTimestamp();
        await socket.SendAsync(payload);
        (long first, long last, int count) = await counting;
        TimeSpan cpu = receiver.ProcessorTime - cpuBefore; // the receiver's CPU time: steadier than its rate on a shared machine
        long switches = receiver.ContextSwitches - switchesBefore;
        double ingestMs = Stopwatch.GetElapsedTime(first, last).TotalMilliseconds;
        return new JsonObject
        {
            ["impl"] = impl,
            ["scenario"] = "tcp-ingest",
            ["messages"] = lines.Length,
            ["received"] = count,
            ["elapsed_ms"] = Stopwatch.GetElapsedTime(start, last).TotalMilliseconds,
            ["ingest_ms"] = ingestMs,
            ["msgs_per_s"] = (count - 1) / (ingestMs / 1000),
            ["cpu_us_per_msg"] = cpu.TotalMicroseconds / Math.Max(1, count),
            ["context_switches_per_msg"] = switches < 0 ? null : (double)switches / Math.Max(1, count),
        };
    }

    private static async Task<(int Received, double ElapsedMs, List<double> Latencies)> MeasureAsync(Peer sender, Peer receiver, int count, int rate, string tag)
    {
        var latencies = new List<double>(count);
        int received = 0;
        long start = Stopwatch.GetTimestamp();
        long last = start;
        Task reading = Task.Run(async () =>
        {
            while (received < count && await receiver.ReadLineAsync(TimeSpan.FromSeconds(30)) is string line)
            {
                double now = NowMs();
                using JsonDocument doc = JsonDocument.Parse(line);
                JsonElement data = doc.RootElement.GetProperty("data");
                if (data.GetProperty("tag").GetString() != tag)
                {
                    continue;
                }

                latencies.Add(now - data.GetProperty("t").GetDouble());
                received++;
                last = Stopwatch.GetTimestamp();
            }
        });

        var pace = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            if (rate > 0)
            {
                double due = i * 1000.0 / rate;
                double wait = due - pace.Elapsed.TotalMilliseconds;
                if (wait > 1)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(wait));
                }
            }

            await sender.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{{\"tag\":\"{tag}\",\"i\":{i},\"t\":{NowMs():F3}}}"));
        }

        await sender.FlushAsync();
        await reading;
        return (received, Stopwatch.GetElapsedTime(start, last).TotalMilliseconds, latencies);
    }

    private static double NowMs() => DateTime.UtcNow.Subtract(DateTime.UnixEpoch).TotalMilliseconds;

    private static double? Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? null : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private sealed partial class Peer : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private Peer(Process process) => _process = process;

        public static Peer Start(string impl, bool listen, int port)
        {
            ProcessStartInfo info;
            if (impl == "js")
            {
                info = new ProcessStartInfo("node") { WorkingDirectory = JsRunner.RepoRoot };
                info.ArgumentList.Add(Path.Combine(JsRunner.RepoRoot, "tests", "interop", "js-node.js"));
                info.ArgumentList.Add(listen ? "--listen" : "--connect");
                info.ArgumentList.Add(listen ? "0" : $"127.0.0.1:{port}");
            }
            else
            {
                info = new ProcessStartInfo("dotnet");
                info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sgossip.dll"));
                info.ArgumentList.Add("node");
                info.ArgumentList.Add(listen ? "--listen" : "--connect");
                info.ArgumentList.Add(listen ? "127.0.0.1:0" : $"127.0.0.1:{port}");

                // The tables compare .NET v1 with the JS package: v2 is the default now, so ask for v1.
                info.ArgumentList.Add("--protocol");
                info.ArgumentList.Add("v1");
            }

            info.RedirectStandardInput = true;
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
            var peer = new Peer(Process.Start(info)!);
            peer._process.ErrorDataReceived += (_, e) => peer.OnStderr(e.Data);
            peer._process.BeginErrorReadLine();
            return peer;
        }

        /// <summary>CPU time the process has used so far (user and system, all threads).</summary>
        public TimeSpan ProcessorTime
        {
            get
            {
                _process.Refresh();
                return _process.TotalProcessorTime;
            }
        }

        /// <summary>Context switches of all the process's threads so far (Linux; -1 elsewhere): each is a thread that slept and was woken.</summary>
        public long ContextSwitches
        {
            get
            {
                string tasks = $"/proc/{_process.Id}/task";
                if (!Directory.Exists(tasks))
                {
                    return -1;
                }

                long total = 0;
                foreach (string task in Directory.EnumerateDirectories(tasks))
                {
                    try
                    {
                        foreach (string line in File.ReadLines(Path.Combine(task, "status")))
                        {
                            if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                            {
                                total += long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
                            }
                        }
                    }
                    catch (IOException)
                    {
                        // the thread ended meanwhile
                    }
                }

                return total;
            }
        }

        public Task<int> WaitForPortAsync() => _port.Task.WaitAsync(TimeSpan.FromSeconds(30));

        public Task WaitForConnectedAsync() => _connected.Task.WaitAsync(TimeSpan.FromSeconds(30));

        /// <summary>Counts newline-terminated lines on stdout until <paramref name="expected"/>; returns the first and last arrival.</summary>
        public async Task<(long First, long Last, int Count)> CountStdoutLinesAsync(int expected, TimeSpan timeout)
        {
            Stream stdout = _process.StandardOutput.BaseStream;
            byte[] buffer = new byte[1 << 16];
            long first = 0, last = 0;
            int count = 0;
            using var cancel = new CancellationTokenSource(timeout);
            try
            {
                while (count < expected)
                {
                    int read = await stdout.ReadAsync(buffer, cancel.Token);
                    if (read == 0)
                    {
                        break;
                    }

                    int lines = buffer.AsSpan(0, read).Count((byte)'\n');
                    if (lines > 0)
                    {
                        last = Stopwatch.GetTimestamp();
                        if (count == 0)
                        {
                            first = last;
                        }

                        count += lines;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }

            return (first, last, count);
        }

        public async Task<string?> ReadLineAsync(TimeSpan timeout) =>
            await _process.StandardOutput.ReadLineAsync().WaitAsync(timeout);

        public Task WriteLineAsync(string line) => _process.StandardInput.WriteLineAsync(line);

        public Task FlushAsync() => _process.StandardInput.FlushAsync();

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        private void OnStderr(string? line)
        {
            if (line is null)
            {
                return;
            }

            Match port = PortPattern().Match(line);
            if (port.Success)
            {
                _port.TrySetResult(int.Parse(port.Groups[1].Value, CultureInfo.InvariantCulture));
            }

            if (line.StartsWith("connected ", StringComparison.Ordinal) || line.Contains("Connected to", StringComparison.Ordinal))
            {
                _connected.TrySetResult();
            }
        }

        [GeneratedRegex(@"(?:^listening |Listening on 127\.0\.0\.1:)(\d+)")]
        private static partial Regex PortPattern();
    }
}
