using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Cli;

/// <summary>What an operator meets at the shell: usage, errors that name what and where, one spelling of the key.</summary>
[Trait(TestCategory.Name, TestCategory.Cli)]
public sealed class SgossipOperatorTests
{
    private static ChildProcess Sgossip(params string[] arguments) => SgossipCliTests.Sgossip(arguments);

    [Fact]
    public async Task Sgossip_alone_prints_its_usage_and_fails()
    {
        await using ChildProcess sgossip = Sgossip();
        Assert.Equal(1, await sgossip.WaitForExitAsync());
        await sgossip.WaitForStderrAsync(l => l.Contains("Usage:", StringComparison.Ordinal));
        await sgossip.WaitForStderrAsync(l => l.TrimStart().StartsWith("node", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stdin_line_that_is_not_json_gets_an_error_that_says_what_and_where()
    {
        await using ChildProcess node = Sgossip("node");
        await node.WriteLineAsync("not json");
        await node.WriteLineAsync("{\"a\":");
        string first = await node.WaitForStderrAsync(l => l.StartsWith("error: stdin line 1:", StringComparison.Ordinal));
        string second = await node.WaitForStderrAsync(l => l.StartsWith("error: stdin line 2:", StringComparison.Ordinal));
        Assert.Contains("not valid JSON at byte", first, StringComparison.Ordinal);
        Assert.DoesNotContain("nesting", first, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", second, StringComparison.Ordinal);
        Assert.Equal(0, await node.TerminateAsync());
    }

    [Fact]
    public async Task A_listen_address_in_use_is_named_in_the_error()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;

        await using ChildProcess node = Sgossip("node", "--listen", $"127.0.0.1:{port}");
        Assert.Equal(1, await node.WaitForExitAsync());
        await node.WaitForStderrAsync(l => l == $"error: --listen: cannot listen on 127.0.0.1:{port}: Address already in use");
    }

    [Fact]
    public async Task Keys_naming_a_directory_is_refused_as_a_directory()
    {
        DirectoryInfo directory = Directory.CreateTempSubdirectory("sgossip-keys-dir-");
        try
        {
            await using ChildProcess node = Sgossip("node", "--keys", directory.FullName);
            Assert.Equal(1, await node.WaitForExitAsync());
            await node.WaitForStderrAsync(l => l.StartsWith($"error: --keys {directory.FullName}:", StringComparison.Ordinal) && l.Contains("is a directory", StringComparison.Ordinal));

            await using ChildProcess keygen = Sgossip("keygen", "--keys", directory.FullName);
            Assert.Equal(1, await keygen.WaitForExitAsync());
            await keygen.WaitForStderrAsync(l => l.Contains("is a directory", StringComparison.Ordinal));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Keygen_node_and_received_messages_spell_the_public_key_the_same_way()
    {
        DirectoryInfo directory = Directory.CreateTempSubdirectory("sgossip-spelling-");
        try
        {
            string keys = Path.Combine(directory.FullName, "secret");
            await using ChildProcess keygen = Sgossip("keygen", "--keys", keys);
            string printed = await keygen.ReadLineAsync();
            Assert.Equal(0, await keygen.WaitForExitAsync());

            await using ChildProcess author = Sgossip("node", "--listen", "127.0.0.1:0", "--keys", keys);
            string listening = await author.WaitForStderrAsync(l => ListeningPattern().IsMatch(l));
            string logged = PublicPattern().Match(await author.WaitForStderrAsync(l => PublicPattern().IsMatch(l))).Groups[1].Value;
            int port = int.Parse(ListeningPattern().Match(listening).Groups[1].Value, CultureInfo.InvariantCulture);
            await using ChildProcess reader = Sgossip("node", "--connect", $"127.0.0.1:{port}");
            await author.WriteLineAsync("{\"spelling\":1}");
            using var line = System.Text.Json.JsonDocument.Parse(await reader.ReadLineAsync());

            Assert.Equal(printed, logged);
            Assert.Equal(printed, line.RootElement.GetProperty("from").GetString());
            Assert.Equal(0, await author.TerminateAsync());
            Assert.Equal(0, await reader.TerminateAsync());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static Regex ListeningPattern() => SgossipCliTests.ListeningPattern();

    private static Regex PublicPattern() => SgossipCliTests.PublicPattern();
}
