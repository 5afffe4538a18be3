using System.Text.Json;
using System.Text.RegularExpressions;
using PuppeteerSharp;
using SecureGossip.Tests.TestSupport;
using static SecureGossip.Tests.Cli.SgossipCliTests;

namespace SecureGossip.Tests.Cli;

/// <summary>
/// <c>sgossip node --http</c> (issue #13, part 4): the live status page, driven in headless Chromium: a message
/// published through one node's form appears on the other node's page, and the same data is served as JSON and
/// Prometheus text.
/// </summary>
[Trait(TestCategory.Name, TestCategory.Cli)]
public sealed partial class StatusPageTests
{
    [Fact]
    public async Task A_message_published_through_one_nodes_page_appears_live_on_the_other_nodes_page()
    {
        await using ChildProcess a = Sgossip("node", "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--interval", "20");
        int port = int.Parse(ListeningPattern().Match(await a.WaitForStderrAsync(l => ListeningPattern().IsMatch(l))).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        string pageA = PagePattern().Match(await a.WaitForStderrAsync(l => PagePattern().IsMatch(l))).Groups[1].Value;
        await using ChildProcess b = Sgossip("node", "--connect", $"127.0.0.1:{port}", "--http", "localhost:0", "--interval", "20");
        string pageB = PagePattern().Match(await b.WaitForStderrAsync(l => PagePattern().IsMatch(l))).Groups[1].Value;
        await b.WaitForStderrAsync(l => l.Contains("up (protocol v2)", StringComparison.Ordinal));

        await using IBrowser browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            Headless = true,
            ExecutablePath = Chromium(),
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            ProtocolTimeout = (int)Gossip.Timeout.TotalMilliseconds,
        });
        await using IPage onA = await browser.NewPageAsync();
        await using IPage onB = await browser.NewPageAsync();
        var navigation = new NavigationOptions { Timeout = (int)Gossip.Timeout.TotalMilliseconds, WaitUntil = [WaitUntilNavigation.DOMContentLoaded] };
        await onA.GoToAsync(pageA, navigation);
        await onB.GoToAsync(pageB, navigation);
        var wait = new WaitForFunctionOptions { Timeout = (int)Gossip.Timeout.TotalMilliseconds, PollingInterval = 100 }; // not frames: a page in the background draws none
        await onB.WaitForFunctionAsync("() => document.getElementById('live').textContent === 'live'", wait);
        await onA.WaitForFunctionAsync("() => document.getElementById('identity').textContent.endsWith('.ed25519')", wait);

        string marker = Guid.NewGuid().ToString("N");
        await onA.EvaluateFunctionAsync("(text) => { document.getElementById('publish-data').value = JSON.stringify({ text }); }", marker);
        await onA.BringToFrontAsync();
        await onA.EvaluateExpressionAsync("document.getElementById('publish-button').click()"); // a click on the form's button
        await onA.WaitForFunctionAsync("() => document.getElementById('publish-result').textContent.startsWith('published')", wait);

        // It crosses the link and arrives on b's page without a reload (server-sent events).
        await onB.BringToFrontAsync();
        await onB.WaitForFunctionAsync("(marker) => [...document.querySelectorAll('#messages li')].some(li => li.textContent.includes(marker))", wait, marker);
        string identityOnA = await onA.EvaluateExpressionAsync<string>("document.getElementById('identity').textContent");

        // The same, as data: b's /status lists the message and its v2 link; /metrics counts what it accepted.
        using var http = new HttpClient();
        using JsonDocument status = JsonDocument.Parse(await http.GetStringAsync(pageB + "status"));
        JsonElement message = status.RootElement.GetProperty("messages").EnumerateArray().First(m => m.GetProperty("data").GetString()!.Contains(marker, StringComparison.Ordinal));
        Assert.Equal(identityOnA, message.GetProperty("from").GetString());
        Assert.Contains(status.RootElement.GetProperty("topic_views")[0].GetProperty("links").EnumerateArray(), l => l.GetProperty("protocol").GetString() == "v2");
        string metrics = await http.GetStringAsync(pageB + "metrics");
        Assert.Matches(@"gossip_messages_accepted_total\{gossip_topic=""default""\} [1-9]", metrics);
        Assert.Contains("# TYPE gossip_links gauge", metrics, StringComparison.Ordinal);

        // Another site's script cannot publish as the node: without the page's header the server refuses.
        using HttpResponseMessage forged = await http.PostAsync(pageB + "publish", new StringContent("{\"data\":{\"forged\":true}}"));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, forged.StatusCode);

        Assert.Equal(0, await b.TerminateAsync());
        Assert.Equal(0, await a.TerminateAsync());
    }

    /// <summary>The system's Chromium (CI installs the Debian package; locally: apt-get install chromium).</summary>
    private static string Chromium()
    {
        foreach (string candidate in new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("No Chromium found (/usr/bin/chromium): install it (apt-get install chromium); .ci/run does.");
    }

    [GeneratedRegex(@"Status page on (http://\S+/)")]
    private static partial Regex PagePattern();
}
