namespace SecureGossip.Tests.TestSupport;

/// <summary>
/// Values of the xunit trait <see cref="Name"/> for tests that leave this process, so a developer can run the
/// in-process tests alone: <c>dotnet test --filter "Category!=Interop&amp;Category!=Cli&amp;Category!=Faults"</c>.
/// </summary>
internal static class TestCategory
{
    public const string Name = "Category";

    /// <summary>Runs the real secure-gossip package under node (needs node and <c>npm ci --prefix tests/interop</c>).</summary>
    public const string Interop = "Interop";

    /// <summary>Runs the <c>sgossip</c> command as a process.</summary>
    public const string Cli = "Cli";

    /// <summary>Kills, stops and partitions real processes, some in network namespaces (run as root).</summary>
    public const string Faults = "Faults";
}
