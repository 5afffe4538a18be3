using System.Diagnostics;
using System.Text.Json.Nodes;

namespace SecureGossip.Harness;

/// <summary>Runs a bench/js script under node and parses the one JSON object it prints.</summary>
internal static class JsRunner
{
    public static string RepoRoot
    {
        get
        {
            for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "SecureGossip.slnx")))
                {
                    return dir.FullName;
                }
            }

            return Directory.GetCurrentDirectory();
        }
    }

    public static string? NodeVersion()
    {
        try
        {
            using Process process = Process.Start(new ProcessStartInfo("node", "--version") { RedirectStandardOutput = true })!;
            string version = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? version : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    public static async Task<JsonObject> RunAsync(string script, params string[] arguments)
    {
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoRoot,
        };
        info.ArgumentList.Add(Path.Combine(RepoRoot, "bench", "js", script));
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 || string.IsNullOrWhiteSpace(stdout))
        {
            throw new InvalidOperationException($"node {script} failed ({process.ExitCode}): {await stderr}");
        }

        return JsonNode.Parse(stdout)!.AsObject();
    }
}
