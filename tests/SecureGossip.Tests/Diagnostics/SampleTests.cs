using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Diagnostics;

/// <summary>The programs in samples/ run as the README says (issue #13): each is built with the tests and run here as a process.</summary>
[Trait(TestCategory.Name, TestCategory.Cli)]
public sealed class SampleTests
{
    /// <summary>The built entry assembly of samples/<paramref name="name"/>, in the configuration the tests were built in.</summary>
    internal static string SamplePath(string name)
    {
        string configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name; // bin/<Configuration>/net10.0
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "samples", name, "bin", configuration, "net10.0", name + ".dll");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"samples/{name} is not built ({configuration}) above {AppContext.BaseDirectory}: the tests reference it, so build them.");
    }

    [Fact]
    public async Task The_OpenTelemetry_sample_exports_the_nodes_metrics()
    {
        await using ChildProcess sample = ChildProcess.Start("dotnet", [SamplePath("MetricsExport")]);
        Assert.Equal("bob received 5 messages; the metrics follow", await sample.ReadLineAsync());
        Assert.Equal(0, await sample.WaitForExitAsync());
        string output = string.Join('\n', await ReadRestAsync(sample));
        Assert.Contains("Metric Name: gossip.messages.accepted", output, StringComparison.Ordinal);
        Assert.Contains("Metric Name: gossip.verify.duration", output, StringComparison.Ordinal);
        Assert.Contains("Name: SecureGossip", output, StringComparison.Ordinal);
    }

    internal static async Task<List<string>> ReadRestAsync(ChildProcess process)
    {
        var lines = new List<string>();
        while (await process.ReadLineOrEndAsync() is string line)
        {
            lines.Add(line);
        }

        return lines;
    }
}
