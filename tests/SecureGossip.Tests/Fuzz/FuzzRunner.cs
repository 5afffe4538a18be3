using System.Diagnostics;
using System.Text;

namespace SecureGossip.Tests.Fuzz;

/// <summary>
/// Runs a target over inputs <c>start … start + count − 1</c> of a seed. Input i is generated from its own
/// <see cref="Random"/> seeded by (seed, target, i), so any one input is reproduced alone with <c>--start i --inputs 1</c>.
/// A watchdog notes the input being run; <see cref="Current"/> names it if the run hangs.
/// </summary>
internal sealed class FuzzRunner
{
    /// <summary>An input that takes longer than this is reported as a hang (generous: the machine is shared).</summary>
    public static readonly TimeSpan InputBudget = TimeSpan.FromSeconds(10);

    private readonly List<FuzzFailure> _failures = [];
    private string? _current;
    private long _currentStarted;

    public FuzzRunner(int seed, int maxFailures = 10)
    {
        Seed = seed;
        MaxFailures = maxFailures;
    }

    public int Seed { get; }

    public int MaxFailures { get; }

    public IReadOnlyList<FuzzFailure> Failures => _failures;

    /// <summary>The input being run and for how long, for a hang report.</summary>
    public string Current
    {
        get
        {
            string? current = Volatile.Read(ref _current);
            long started = Volatile.Read(ref _currentStarted);
            return current is null ? "(none)" : $"{current}\n  running for {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s";
        }
    }

    /// <summary>Whether the input running now has exceeded <see cref="InputBudget"/>.</summary>
    public bool IsHung => Volatile.Read(ref _current) is not null && Stopwatch.GetElapsedTime(Volatile.Read(ref _currentStarted)) > InputBudget;

    public static Random InputRandom(int seed, string target, long index)
    {
        // FNV-1a over the three, so neighbouring seeds and indices give unrelated streams.
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes($"{seed}/{target}/{index}"))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return new Random((int)(hash ^ (hash >> 32)));
    }

    /// <summary>Runs a parser target.</summary>
    public FuzzReport RunParser(ParserTargets targets, string target, long start, long count)
    {
        ArgumentNullException.ThrowIfNull(targets);
        long startTime = Stopwatch.GetTimestamp();
        long done = 0;
        for (long i = start; i < start + count && _failures.Count < MaxFailures; i++)
        {
            string description = string.Empty;
            byte[] input = [];
            Begin(target, i, input, description);
            try
            {
                targets.Run(target, InputRandom(Seed, target, i), (bytes, what) =>
                {
                    input = bytes;
                    description = what;
                    Begin(target, i, bytes, what);
                });
            }
            catch (Exception e)
            {
                Fail(target, i, description, input, e is FuzzFailureException ? e.Message : $"exception escaped: {e}");
            }

            TimeSpan took = End();
            if (took > InputBudget)
            {
                Fail(target, i, description, input, $"HANG: the input took {took.TotalSeconds:F1} s");
            }

            done++;
        }

        string detail = $"forgery-oracle verifications {targets.Verifications:N0}, model-checked canonical forms {targets.ModelChecks:N0}, frame round trips {targets.RoundTrips:N0}";
        return new FuzzReport(target, Seed, done, Stopwatch.GetElapsedTime(startTime), [.. _failures], detail);
    }

    internal void Begin(string target, long index, byte[] input, string description)
    {
        Volatile.Write(ref _currentStarted, Stopwatch.GetTimestamp());
        Volatile.Write(ref _current, $"[{target}] seed {Seed} input {index} ({description}): {Convert.ToBase64String(input)}");
    }

    internal TimeSpan End()
    {
        TimeSpan took = Stopwatch.GetElapsedTime(Volatile.Read(ref _currentStarted));
        Volatile.Write(ref _current, null);
        return took;
    }

    internal void Fail(string target, long index, string description, byte[] input, string problem)
    {
        lock (_failures)
        {
            _failures.Add(new FuzzFailure(target, Seed, index, description, Convert.ToBase64String(input), problem));
        }
    }
}
