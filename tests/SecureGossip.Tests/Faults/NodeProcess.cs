using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace SecureGossip.Tests.Faults;

/// <summary>
/// One life of a real <c>sgossip node</c> process (optionally inside a network namespace): every stdout line
/// parsed as a received message, the stderr tail kept for diagnostics, SIGKILL/SIGSTOP/SIGCONT on demand.
/// Disposing it kills it.
/// </summary>
internal sealed partial class NodeProcess : IAsyncDisposable
{
    private const int StderrTailLines = 60;

    private readonly Process _process;
    private readonly List<ReceivedLine> _lines = [];
    private readonly List<string> _unparsed = [];
    private readonly List<(Func<IReadOnlyList<ReceivedLine>, bool> Condition, TaskCompletionSource Signal)> _waiters = [];
    private readonly Queue<string> _stderrTail = new();
    private readonly List<(Regex Pattern, TaskCompletionSource<Match> Signal)> _stderrWaiters = [];
    private readonly TaskCompletionSource _stdoutEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private NodeProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    /// <summary>A label for diagnostics, e.g. "listener life 3".</summary>
    public string Name { get; }

    public int Id => _process.Id;

    /// <summary>The node's public key, as printed on stderr (without a leading @).</summary>
    public string PublicKey { get; private set; } = "";

    /// <summary>The port it listens on, when started with <c>--listen</c>.</summary>
    public int Port { get; private set; }

    /// <summary>The messages it printed so far, in order.</summary>
    public IReadOnlyList<ReceivedLine> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Stdout lines that were not a well-formed message line (a line cut by a kill would be one).</summary>
    public IReadOnlyList<string> UnparsedLines
    {
        get
        {
            lock (_lines)
            {
                return [.. _unparsed];
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// Starts <c>dotnet sgossip.dll node ARGS</c> (inside <paramref name="namespaceName"/> with <c>ip netns exec</c>
    /// if given) and waits for its public key and, with <c>--listen</c>, its listening address.
    /// </summary>
    public static async Task<NodeProcess> StartAsync(string name, IEnumerable<string> arguments, TimeSpan timeout, string? namespaceName = null)
    {
        string[] nodeArguments = ["node", .. arguments];
        string dll = Path.Combine(AppContext.BaseDirectory, "sgossip.dll");
        var info = new ProcessStartInfo(namespaceName is null ? "dotnet" : "ip")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        if (namespaceName is not null)
        {
            // ip netns exec switches namespace and execs the command: the pid we hold is the node's own.
            foreach (string argument in (string[])["netns", "exec", namespaceName, "dotnet"])
            {
                info.ArgumentList.Add(argument);
            }
        }

        info.ArgumentList.Add(dll);
        foreach (string argument in nodeArguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["NO_COLOR"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var node = new NodeProcess(name, process);
        process.OutputDataReceived += (_, e) => node.OnStdout(e.Data);
        process.ErrorDataReceived += (_, e) => node.OnStderr(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            Match key = await node.WaitForStderrAsync(PublicKeyPattern(), timeout);
            node.PublicKey = key.Groups[1].Value;
            if (nodeArguments.Contains("--listen"))
            {
                Match listening = await node.WaitForStderrAsync(ListeningPattern(), timeout);
                node.Port = int.Parse(listening.Groups[1].Value, CultureInfo.InvariantCulture);
            }
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }

        return node;
    }

    /// <summary>Publishes <c>{"n":N}</c> plus optional padding through stdin.</summary>
    public async Task PublishAsync(int n, string padding = "")
    {
        string line = padding.Length == 0
            ? $"{{\"n\":{n.ToString(CultureInfo.InvariantCulture)}}}"
            : $"{{\"n\":{n.ToString(CultureInfo.InvariantCulture)},\"pad\":\"{padding}\"}}";
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Waits until the lines printed satisfy <paramref name="condition"/>.</summary>
    public async Task WaitForLinesAsync(Func<IReadOnlyList<ReceivedLine>, bool> condition, TimeSpan timeout, string what)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lines)
        {
            if (condition(_lines))
            {
                return;
            }

            _waiters.Add((condition, signal));
        }

        try
        {
            await signal.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            lock (_lines)
            {
                _waiters.RemoveAll(w => w.Signal == signal);
            }

            throw new TimeoutException($"{Name}: {what} did not happen within {timeout.TotalSeconds:0} s ({Lines.Count} lines printed).");
        }
    }

    /// <summary>Waits for a stderr line matching <paramref name="pattern"/>, including one already printed.</summary>
    public async Task<Match> WaitForStderrAsync(Regex pattern, TimeSpan timeout)
    {
        var signal = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_stderrTail)
        {
            foreach (string line in _stderrTail)
            {
                Match seen = pattern.Match(line);
                if (seen.Success)
                {
                    return seen;
                }
            }

            _stderrWaiters.Add((pattern, signal));
        }

        try
        {
            return await signal.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{Name}: no stderr line matching /{pattern}/ within {timeout.TotalSeconds:0} s.");
        }
    }

    /// <summary>SIGKILL, then waits until the process is gone and its stdout is read to the end.</summary>
    public async Task KillAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.Kill(entireProcessTree: false);
            }
            catch (InvalidOperationException)
            {
            }
        }

        await _process.WaitForExitAsync().WaitAsync(timeout);
        await Task.WhenAll(_stdoutEnded.Task, _stderrEnded.Task).WaitAsync(timeout);
    }

    /// <summary>SIGSTOP: the process freezes with its sockets open.</summary>
    public Task StopAsync() => SignalAsync("-STOP");

    /// <summary>SIGCONT.</summary>
    public Task ContinueAsync() => SignalAsync("-CONT");

    /// <summary>The last stderr lines, for a failure message.</summary>
    public string StderrTail()
    {
        lock (_stderrTail)
        {
            return $"--- {Name} (pid {_process.Id}{(_process.HasExited ? ", exited" : "")}) stderr tail:\n  " + string.Join("\n  ", _stderrTail);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                // The node has no children (ip netns exec execs it in place): kill just it. Killing a tree walks
                // every process and can fail on one that exits meanwhile, which would leave this one running.
                _process.Kill();
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
        }

        _process.Dispose();
    }

    private async Task SignalAsync(string signal)
    {
        if (_process.HasExited)
        {
            return;
        }

        using Process kill = Process.Start("kill", [signal, _process.Id.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    private void OnStdout(string? line)
    {
        if (line is null)
        {
            _stdoutEnded.TrySetResult();
            return;
        }

        lock (_lines)
        {
            if (ReceivedLine.TryParse(line, out ReceivedLine? received))
            {
                _lines.Add(received);
            }
            else
            {
                _unparsed.Add(line);
            }

            foreach (var waiter in _waiters.Where(w => w.Condition(_lines)).ToList())
            {
                waiter.Signal.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    private void OnStderr(string? line)
    {
        if (line is null)
        {
            _stderrEnded.TrySetResult();
            return;
        }

        lock (_stderrTail)
        {
            _stderrTail.Enqueue(line);
            if (_stderrTail.Count > StderrTailLines)
            {
                _stderrTail.Dequeue();
            }

            foreach (var waiter in _stderrWaiters.ToList())
            {
                Match match = waiter.Pattern.Match(line);
                if (match.Success)
                {
                    waiter.Signal.TrySetResult(match);
                    _stderrWaiters.Remove(waiter);
                }
            }
        }
    }

    [GeneratedRegex(@"Public key @?(\S+)")]
    private static partial Regex PublicKeyPattern();

    [GeneratedRegex(@"Listening on \S+:(\d+)")]
    private static partial Regex ListeningPattern();
}
