using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace SecureGossip.Tests.Diagnostics;

/// <summary>Log events (issue #13, part 2): every log call is source-generated, with an id that is unique and documented.</summary>
public sealed partial class LogEventTests
{
    [Fact]
    public void Every_log_event_has_a_unique_id_and_is_in_the_READMEs_table_with_its_level_and_text()
    {
        Assembly[] assemblies = [typeof(GossipNode).Assembly, typeof(SecureGossip.Storage.SqliteGossipStore).Assembly, typeof(SecureGossip.Hosting.SecureGossipHost).Assembly, Assembly.LoadFrom(Path.Combine(AppContext.BaseDirectory, "sgossip.dll"))];
        var events = assemblies
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .Select(m => m.GetCustomAttribute<LoggerMessageAttribute>())
            .OfType<LoggerMessageAttribute>()
            .ToList();
        Assert.True(events.Count >= 50, $"found {events.Count} log events");

        var duplicates = events.GroupBy(e => e.EventId).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.Empty(duplicates);

        string readme = File.ReadAllText(Path.Combine(Repository.Root(), "README.md"));
        var documented = RowPattern().Matches(readme).ToDictionary(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), m => (Level: m.Groups[2].Value, Text: m.Groups[3].Value.Trim()));
        foreach (LoggerMessageAttribute e in events)
        {
            Assert.True(documented.TryGetValue(e.EventId, out var row), $"event {e.EventId} ({e.Message}) is not in README's log event table");
            Assert.Equal(e.Level.ToString(), row.Level);
            Assert.Equal(e.Message!.Replace("|", "/", StringComparison.Ordinal), row.Text);
        }

        Assert.Equal(events.Count, documented.Count); // and nothing documented that the code no longer logs
    }

    [GeneratedRegex(@"^\| (\d+) \| (Trace|Debug|Information|Warning|Error|Critical) \| (.*) \|$", RegexOptions.Multiline)]
    private static partial Regex RowPattern();

    private static class Repository
    {
        /// <summary>The repository root (the directory holding README.md above the test binaries).</summary>
        public static string Root()
        {
            for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "README.md")) && Directory.Exists(Path.Combine(dir.FullName, "src")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("README.md not found above " + AppContext.BaseDirectory);
        }
    }
}
