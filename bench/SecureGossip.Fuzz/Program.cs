using System.Diagnostics;
using System.Globalization;
using SecureGossip.Tests.Fuzz;

// Outside-CI driver of the wire fuzzer (issue 8, part 6). The same seeded generators and oracles as the CI tests
// (tests/SecureGossip.Tests/Fuzz), for as many inputs as asked:
//   dotnet run -c Release --project bench/SecureGossip.Fuzz -- --inputs 5000000 --seed 1 [--target NAME] [--start N] [--include-known]
// Targets: envelope, canonical, frames, base64, number, noise (parsers), node-v1, node-v2 (a real node); "all" (the
// default) gives each parser target an eighth of --inputs and each node target a tenth.
// Exit code 0: no failure; 1: failures (each printed with its seed, index and base64 input); 2: a hang.
long inputs = 1_000_000;
int seed = 1;
long start = 0;
string target = "all";
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--inputs":
            inputs = long.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--seed":
            seed = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--start":
            start = long.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--target":
            target = args[++i];
            break;
        case "--include-known":
            KnownFindings.Skip = false;
            break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}; usage: --inputs N --seed S [--start N] [--target NAME] [--include-known]");
            return 64;
    }
}

List<(string Name, long Count)> plan = target == "all"
    ? [.. ParserTargets.Names.Select(n => (n, inputs / (ParserTargets.Names.Count + 2))), ("node-v1", inputs / 10), ("node-v2", inputs / 10)]
    : [(target, inputs)];

using var corpus = new FuzzCorpus(seed, messagesPerAuthor: 12);
var total = Stopwatch.StartNew();
long tried = 0;
int failures = 0;
Console.WriteLine($"seed {seed}, start {start}, known findings {(KnownFindings.Skip ? "stepped around" : "included")}");
foreach ((string name, long count) in plan)
{
    var runner = new FuzzRunner(seed, maxFailures: 20);
    using var watchdog = new Timer(_ =>
    {
        if (runner.IsHung)
        {
            Console.WriteLine($"HANG: {runner.Current}");
            Environment.Exit(2);
        }
    }, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    FuzzReport report;
    if (name.StartsWith("node-", StringComparison.Ordinal))
    {
        using var node = new NodeTarget(corpus, v2: name == "node-v2");
        report = await node.RunAsync(runner, start, count);
    }
    else
    {
        using var parsers = new ParserTargets(corpus);
        report = runner.RunParser(parsers, name, start, count);
    }

    tried += report.Inputs;
    failures += report.Failures.Count;
    Console.WriteLine($"{report.Target,-9} {report.Inputs,12:N0} inputs {report.Elapsed.TotalSeconds,8:F1} s {report.InputsPerSecond,10:N0}/s  failures {report.Failures.Count}  ({report.Detail})");
    foreach (FuzzFailure failure in report.Failures)
    {
        Console.WriteLine(failure);
    }
}

using Process self = Process.GetCurrentProcess();
Console.WriteLine($"total {tried:N0} inputs in {total.Elapsed.TotalSeconds:F1} s ({tried / total.Elapsed.TotalSeconds:N0}/s), failures {failures}, peak working set {self.PeakWorkingSet64 / (1024.0 * 1024):F0} MB");
return failures == 0 ? 0 : 1;
