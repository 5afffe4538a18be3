using System.Globalization;
using System.Text.Json;

namespace SecureGossip.Tests.TestSupport;

/// <summary>
/// The real secure-gossip 0.3.1 under node (tests/interop/js-node.js). Without node or its npm packages the
/// interop tests fail with the command that installs them: they are never skipped.
/// </summary>
internal sealed class JsNode : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private JsNode(ChildProcess process, string publicKey)
    {
        _process = process;
        Public = publicKey;
    }

    public string Public { get; }

    public int Port { get; private set; }

    public static string InteropDirectory
    {
        get
        {
            for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "tests", "interop");
                if (File.Exists(Path.Combine(candidate, "js-node.js")))
                {
                    return candidate;
                }
            }

            throw new InvalidOperationException("tests/interop/js-node.js not found above " + AppContext.BaseDirectory);
        }
    }

    public static async Task<JsNode> StartAsync(params string[] arguments)
    {
        string directory = InteropDirectory;
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "secure-gossip")))
        {
            throw new InvalidOperationException($"The JS package is not installed: run `npm ci --prefix tests/interop` (needs node and npm).");
        }

        ChildProcess process = ChildProcess.Start("node", [Path.Combine(directory, "js-node.js"), .. arguments], directory);
        string publicLine = await process.WaitForStderrAsync(l => l.StartsWith("public ", StringComparison.Ordinal));
        var node = new JsNode(process, publicLine["public ".Length..]);
        if (arguments.Contains("--listen"))
        {
            string listening = await process.WaitForStderrAsync(l => l.StartsWith("listening ", StringComparison.Ordinal));
            node.Port = int.Parse(listening["listening ".Length..], CultureInfo.InvariantCulture);
        }

        return node;
    }

    public Task WaitForStderrAsync(string prefix) => _process.WaitForStderrAsync(l => l.StartsWith(prefix, StringComparison.Ordinal));

    public Task PublishAsync(string json) => _process.WriteLineAsync(json);

    /// <summary>The next message the JS peer emitted: (author public key, payload JSON).</summary>
    public async Task<(string From, JsonElement Data)> ReceiveAsync()
    {
        string line = await _process.ReadLineAsync();
        using JsonDocument document = JsonDocument.Parse(line);
        return (document.RootElement.GetProperty("from").GetString()!, document.RootElement.GetProperty("data").Clone());
    }

    public string StandardError => _process.StandardError;

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
