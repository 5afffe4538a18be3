using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace SecureGossip.Harness;

/// <summary>
/// An <c>sgossip</c> process (the CLI built beside the harness) whose stderr lines can be awaited and whose stdout
/// lines are counted as they arrive. Killed on dispose.
/// </summary>
internal sealed partial class CliProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _stderr = [];
    private readonly List<(string Text, TaskCompletionSource Seen)> _waiters = [];

    private CliProcess(Process process) => _process = process;

    public string StandardError
    {
        get
        {
            lock (_stderr)
            {
                return string.Join('\n', _stderr.TakeLast(20));
            }
        }
    }

    public static CliProcess Start(IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sgossip.dll"));
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["NO_COLOR"] = "1";
        var child = new CliProcess(Process.Start(info)!);
        child._process.ErrorDataReceived += (_, e) => child.OnStderr(e.Data);
        child._process.BeginErrorReadLine();
        return child;
    }

    /// <summary>The port of the first "Listening on 127.0.0.1:PORT" line.</summary>
    public Task<int> WaitForPortAsync(TimeSpan timeout) => _port.Task.WaitAsync(timeout);

    /// <summary>Waits for a stderr line containing <paramref name="text"/>, including one already printed.</summary>
    public Task WaitForStderrAsync(string text, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_stderr)
        {
            if (_stderr.Any(l => l.Contains(text, StringComparison.Ordinal)))
            {
                return Task.CompletedTask;
            }

            _waiters.Add((text, seen));
        }

        return seen.Task.WaitAsync(timeout);
    }

    public async Task WriteAsync(string text)
    {
        await _process.StandardInput.WriteAsync(text);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Counts newline-terminated stdout lines until <paramref name="expected"/>; returns when the last arrived.</summary>
    public async Task<(long Last, int Count)> CountStdoutLinesAsync(int expected, TimeSpan timeout)
    {
        Stream stdout = _process.StandardOutput.BaseStream;
        byte[] buffer = new byte[1 << 16];
        long last = 0;
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
                    count += lines;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return (last, count);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
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

        lock (_stderr)
        {
            _stderr.Add(line);
            foreach ((string text, TaskCompletionSource seen) in _waiters)
            {
                if (line.Contains(text, StringComparison.Ordinal))
                {
                    seen.TrySetResult();
                }
            }
        }
    }

    [GeneratedRegex(@"Listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex PortPattern();
}
