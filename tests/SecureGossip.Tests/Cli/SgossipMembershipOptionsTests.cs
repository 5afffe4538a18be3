using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Cli;

/// <summary><c>sgossip node --bootstrap/--advertise</c> refuse what cannot work, on stderr with exit code 1 (issue #12, part 2).</summary>
[Trait(TestCategory.Name, TestCategory.Cli)]
public sealed class SgossipMembershipOptionsTests
{
    [Theory]
    [InlineData(new[] { "--bootstrap", "127.0.0.1:7000" }, "--bootstrap needs --listen HOST:PORT (or --advertise)")]
    [InlineData(new[] { "--listen", "0.0.0.0:0", "--bootstrap", "127.0.0.1:7000" }, "a node never advertises an unspecified address")]
    [InlineData(new[] { "--listen", "127.0.0.1:0", "--advertise", "0.0.0.0:7000" }, "other nodes cannot dial an unspecified address")]
    [InlineData(new[] { "--listen", "127.0.0.1:0", "--bootstrap", "nowhere" }, "--bootstrap: 'nowhere' is not HOST:PORT")]
    [InlineData(new[] { "--listen", "127.0.0.1:0", "--bootstrap", "--protocol", "v1" }, "need protocol v2")]
    public async Task Membership_that_cannot_work_is_refused_with_a_message(string[] arguments, string message)
    {
        await using ChildProcess node = ChildProcess.Start("dotnet", [Path.Combine(AppContext.BaseDirectory, "sgossip.dll"), "node", .. arguments]);
        Assert.Equal(1, await node.WaitForExitAsync());
        Assert.Contains(message, node.StandardError, StringComparison.Ordinal);
    }
}
