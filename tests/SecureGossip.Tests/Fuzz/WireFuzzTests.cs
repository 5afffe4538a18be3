using Xunit.Abstractions;

namespace SecureGossip.Tests.Fuzz;

/// <summary>
/// The bounded CI run of the wire fuzzer (issue 8, part 6): seeded, reproducible inputs through every parser and
/// through a real node, with the oracles of <see cref="ParserTargets"/> and <see cref="NodeTarget"/>: no exception,
/// no hang (each input has a budget, each test a timeout), no forged message accepted, canonical forms exactly as
/// JSON.stringify prints them, and frames that survive encode(decode(x)). A failure names the seed and the input
/// (base64) and the command that reruns it alone. The millions live outside CI: bench/SecureGossip.Fuzz.
/// </summary>
public sealed class WireFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 20_260_802;

    private static readonly TimeSpan s_testTimeout = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData("envelope", 15_000)]
    [InlineData("canonical", 40_000)]
    [InlineData("frames", 60_000)]
    [InlineData("base64", 60_000)]
    [InlineData("number", 100_000)]
    [InlineData("noise", 60_000)]
    public async Task Parser_inputs_never_crash_hang_or_verify_a_forgery(string target, int inputs)
    {
        using var corpus = new FuzzCorpus(Seed, messagesPerAuthor: 12);
        using var targets = new ParserTargets(corpus);
        var runner = new FuzzRunner(Seed);
        FuzzReport report = await WatchAsync(runner, Task.Run(() => runner.RunParser(targets, target, 0, inputs)));
        Assert.Equal(inputs, report.Inputs);
        if (target is "envelope" or "canonical")
        {
            // The model predicted the parser's canonical bytes for a good share of the inputs, not a handful.
            Assert.True(targets.ModelChecks > inputs / 10, $"only {targets.ModelChecks} inputs were checked against the model");
        }

        if (target == "envelope")
        {
            Assert.True(targets.Verifications > inputs / 10, $"only {targets.Verifications} inputs reached the forgery oracle");
        }

        if (target == "frames")
        {
            Assert.True(targets.RoundTrips > inputs / 10, $"only {targets.RoundTrips} frames were round-tripped");
        }
    }

    [Theory]
    [InlineData(false, 12_000)]
    [InlineData(true, 12_000)]
    public async Task A_node_fed_mutants_delivers_only_what_its_authors_signed(bool v2, int inputs)
    {
        using var corpus = new FuzzCorpus(Seed, messagesPerAuthor: 12);
        using var target = new NodeTarget(corpus, v2);
        var runner = new FuzzRunner(Seed);
        FuzzReport report = await WatchAsync(runner, target.RunAsync(runner, 0, inputs, epoch: 6_000));
        Assert.Equal(inputs, report.Inputs);
        Assert.True(target.Delivered > 0, "the node delivered nothing: the oracle saw no accepted message");
        if (v2)
        {
            Assert.True(target.FramesFromNode > 0, "the node wrote no frame back");
        }
    }

    private async Task<FuzzReport> WatchAsync(FuzzRunner runner, Task<FuzzReport> run)
    {
        FuzzReport report;
        try
        {
            report = await run.WaitAsync(s_testTimeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"HANG: the run did not finish within {s_testTimeout.TotalSeconds} s; the input running:\n{runner.Current}");
            throw;
        }

        output.WriteLine($"{report.Target}: {report.Inputs:N0} inputs in {report.Elapsed.TotalSeconds:F1} s ({report.InputsPerSecond:N0}/s); {report.Detail}");
        Assert.True(report.Failures.Count == 0, string.Join("\n\n", report.Failures));
        return report;
    }
}
