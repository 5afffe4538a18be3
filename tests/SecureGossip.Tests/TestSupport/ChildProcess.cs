using System.Diagnostics;
using System.Threading.Channels;

namespace SecureGossip.Tests.TestSupport;

/// <summary>
/// A child process (a JS node under node, or the sgossip CLI) whose stdout and stderr lines can be awaited.
/// It is killed on dispose, so a failing test never leaves it running.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _stdout = Channel.CreateUnbounded<string>();
    private readonly List<string> _stderr = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Signal)> _stderrWaiters = [];

    private ChildProcess(Process process)
    {
        _process = process;
    }

    public int Id => _process.Id;

    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return string.Join('\n', _stderr);
            }
        }
    }

    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["NO_COLOR"] = "1";
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                child._stdout.Writer.TryComplete();
            }
            else
            {
                child._stdout.Writer.TryWrite(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                child.OnStderr(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for a stderr line that matches, including one already printed.</summary>
    public async Task<string> WaitForStderrAsync(Func<string, bool> match)
    {
        var signal = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_stderr)
        {
            string? seen = _stderr.FirstOrDefault(match);
            if (seen is not null)
            {
                return seen;
            }

            _stderrWaiters.Add((match, signal));
        }

        try
        {
            return await signal.Task.WaitAsync(Gossip.Timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No matching stderr line from {_process.StartInfo.FileName} within {Gossip.Timeout}. It printed:\n{StandardError}");
        }
    }

    /// <summary>The next stdout line.</summary>
    public async Task<string> ReadLineAsync()
    {
        try
        {
            return await _stdout.Reader.ReadAsync().AsTask().WaitAsync(Gossip.Timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No stdout line from {_process.StartInfo.FileName} within {Gossip.Timeout}. stderr:\n{StandardError}");
        }
    }

    /// <summary>The next stdout line, or null once stdout has ended.</summary>
    public async Task<string?> ReadLineOrEndAsync()
    {
        return await _stdout.Reader.WaitToReadAsync().AsTask().WaitAsync(Gossip.Timeout) && _stdout.Reader.TryRead(out string? line) ? line : null;
    }

    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    public void CloseInput() => _process.StandardInput.Close();

    /// <summary>Sends SIGTERM and returns the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        using (Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync().WaitAsync(Gossip.Timeout);
        return _process.ExitCode;
    }

    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(Gossip.Timeout);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(Gossip.Timeout);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    private void OnStderr(string line)
    {
        lock (_stderr)
        {
            _stderr.Add(line);
            foreach (var waiter in _stderrWaiters.Where(w => w.Match(line)).ToList())
            {
                waiter.Signal.TrySetResult(line);
                _stderrWaiters.Remove(waiter);
            }
        }
    }
}
