using SecureGossip.Tests.TestSupport;
using Xunit.Abstractions;

namespace SecureGossip.Tests.Faults;

/// <summary>
/// kill -9 of either side of a real TCP link at random moments while messages stream, many rounds, with default
/// flags and a store: nothing lost, nothing delivered twice, no seq reused (issue 8, "Exactly once across crashes"
/// and "Links that never silently die").
/// </summary>
[Collection(FaultsCollection.Name)]
[Trait(TestCategory.Name, TestCategory.Faults)]
public sealed class KillTests(ITestOutputHelper output)
{
    private const int Rounds = 8;
    private const int PerRound = 100; // 8 x 100 = 800 <= the 1,000 messages a node retains per author
    private const int Marker = 1_000_000;
    private const int RoundMarker = 900_000;
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan FinalTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Listener_killed_at_random_moments_and_restarted_on_its_store_prints_every_message_exactly_once()
    {
        await using var run = new FaultRun(output, "listener-kill");
        await run.RunAsync(async () =>
        {
            int port = FaultRun.FreePort();
            string[] listenerArguments = ["--listen", $"127.0.0.1:{port}", "--keys", run.PathFor("listener.keys"), "--store", run.PathFor("listener.db")];
            NodeProcess listener = await run.StartNodeAsync("listener life 0", listenerArguments);
            NodeProcess publisher = await run.StartNodeAsync("publisher", ["--connect", $"127.0.0.1:{port}", "--keys", run.PathFor("publisher.keys")]);
            var earlier = new List<ReceivedLine>();
            var lives = new List<(IReadOnlyList<ReceivedLine> Lines, DateTimeOffset KilledAt)>();

            for (int round = 0; round < Rounds; round++)
            {
                if (round > 0)
                {
                    listener = await run.StartNodeAsync($"listener life {round}", listenerArguments);
                }

                // The round starts once this life is linked and caught up (its start marker printed), so the kill lands
                // while live messages stream (a round streams for about a second), not after a catch-up burst.
                await publisher.PublishAsync(RoundMarker + round);
                NodeProcess starting = listener;
                await starting.WaitForLinesAsync(lines => lines.Any(l => l.N == RoundMarker + round), RoundTimeout, $"round {round}: the restarted listener linked and printing its start marker");
                int killAfter = starting.Lines.Count + run.Random.Next(1, PerRound - 10);
                Task<int> streaming = FaultRun.StreamAsync(publisher, Enumerable.Range(round * PerRound, PerRound), run.Random.Next(), maxBurst: 4, maxPauseMilliseconds: 50);
                NodeProcess life = listener;
                await life.WaitForLinesAsync(lines => lines.Count >= killAfter, RoundTimeout, $"round {round}: printing {killAfter} lines (publisher -> restarted listener)");
                await life.KillAsync(RoundTimeout);
                lives.Add((life.Lines, DateTimeOffset.UtcNow));
                await streaming;
                earlier.AddRange(life.Lines);
                run.Log($"round {round}: killed after {life.Lines.Count} lines (target {killAfter}); {earlier.Select(l => l.N).Distinct().Count()} distinct so far");
                Assert.Empty(life.UnparsedLines);
            }

            NodeProcess last = await run.StartNodeAsync($"listener life {Rounds}", listenerArguments);
            int total = Rounds * PerRound;
            int[] expected = [.. Enumerable.Range(0, total).Concat(Enumerable.Range(RoundMarker, Rounds))];
            string store = run.PathFor("listener.db");

            // What a killed life committed and never printed is, to every later life, a message already seen.
            int neverAgain = CommittedButUnprintedAtKill(run, ReadAcceptedTimes(store), lives, expected.Except(earlier.Select(l => l.N)), log: false).Count;
            bool all = await run.CompletesAsync(last.WaitForLinesAsync(
                lines => earlier.Concat(lines).Select(l => l.N).Where(n => n < total || (n >= RoundMarker && n < Marker)).Distinct().Count() >= total + Rounds - neverAgain,
                FinalTimeout,
                $"the union of all lives reaching {total + Rounds - neverAgain} distinct messages"));

            // A marker published after everything: duplicates already on their way arrive before it.
            await publisher.PublishAsync(Marker);
            bool marker = await run.CompletesAsync(last.WaitForLinesAsync(lines => lines.Any(l => l.N == Marker), FinalTimeout, "the end marker"));

            // A line is printed only once its record is committed: every number printed by any life is in the store.
            Dictionary<int, long> recorded = ReadAcceptedTimes(store);
            int[] unrecorded = [.. earlier.Concat(last.Lines).Select(l => l.N).Where(n => !recorded.ContainsKey(n)).Distinct().Order()];
            Assert.True(unrecorded.Length == 0, $"printed before their record was committed: {string.Join(",", unrecorded.Take(20))}");
            HashSet<int> atKill = CommittedButUnprintedAtKill(run, recorded, lives, expected.Except(earlier.Concat(last.Lines).Select(l => l.N)), log: true);
            FaultRun.AssertExactlyOnce([.. earlier, .. last.Lines], expected.Where(n => !atKill.Contains(n)), publisher.PublicKey, $"listener over {Rounds + 1} lives", Marker);
            Assert.True(all && marker, "the last life did not receive the end marker: the publisher's link is dead");
        });
    }

    /// <summary>
    /// Of the <paramref name="missing"/> numbers, those lost in the one window the README documents ("Promises"): a
    /// kill -9 after the store committed a batch and before the batch's single write to stdout. Such a message is in
    /// the store (so no later life is sent it again), was accepted before its life was killed, and after every line
    /// that life printed (a batch is printed whole and in order, so only the life's last accepted messages can be
    /// lost this way). Any other missing message is not returned, and fails the test; with <paramref name="log"/> each
    /// missing message is explained in the log.
    /// </summary>
    private static HashSet<int> CommittedButUnprintedAtKill(FaultRun run, Dictionary<int, long> acceptedAt, List<(IReadOnlyList<ReceivedLine> Lines, DateTimeOffset KilledAt)> lives, IEnumerable<int> missing, bool log)
    {
        var explained = new HashSet<int>();
        int[] lost = [.. missing.Order()];
        if (lost.Length == 0)
        {
            return explained;
        }

        void Log(string line)
        {
            if (log)
            {
                run.Log(line);
            }
        }

        foreach (int n in lost)
        {
            if (!acceptedAt.TryGetValue(n, out long at))
            {
                Log($"message {n}: missing and not in the listener's store (lost before its record, and no later life was sent it)");
                continue;
            }

            int life = lives.FindIndex(l => at <= l.KilledAt.ToUnixTimeMilliseconds());
            if (life < 0)
            {
                Log($"message {n}: missing, recorded at {at} by the last life (never killed)");
                continue;
            }

            long killedAt = lives[life].KilledAt.ToUnixTimeMilliseconds();
            long[] printedAfter = [.. lives[life].Lines.Where(l => acceptedAt.TryGetValue(l.N, out long p) && p > at).Select(l => (long)l.N)];
            if (printedAfter.Length > 0 || killedAt - at > 2_000)
            {
                Log($"message {n}: missing, recorded at {at} in life {life} (killed at {killedAt}), which printed {printedAfter.Length} message(s) accepted after it ({string.Join(",", printedAfter.Take(10))})");
                continue;
            }

            Log($"message {n}: recorded {killedAt - at} ms before life {life} was killed, after every line that life printed: lost between the commit and stdout (the documented window)");
            explained.Add(n);
        }

        return explained;
    }

    /// <summary>The accept time (ms since the epoch) of every message in the store, by its <c>n</c>.</summary>
    private static Dictionary<int, long> ReadAcceptedTimes(string store)
    {
        var times = new Dictionary<int, long>();
        string connection = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder { DataSource = store, Mode = Microsoft.Data.Sqlite.SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        using var sqlite = new Microsoft.Data.Sqlite.SqliteConnection(connection);
        sqlite.Open();
        using Microsoft.Data.Sqlite.SqliteCommand command = sqlite.CreateCommand();
        command.CommandText = "SELECT line, accepted_at FROM messages";
        using Microsoft.Data.Sqlite.SqliteDataReader reader = command.ExecuteReader();
        while (reader.Read())
        {
            using var line = System.Text.Json.JsonDocument.Parse((byte[])reader[0]);
            if (TryN(line.RootElement, out int n))
            {
                times[n] = reader.GetInt64(1);
            }
        }

        return times;

        static bool TryN(System.Text.Json.JsonElement message, out int n)
        {
            n = 0;
            return message.TryGetProperty("data", out System.Text.Json.JsonElement data) && data.ValueKind == System.Text.Json.JsonValueKind.Object &&
                data.TryGetProperty("n", out System.Text.Json.JsonElement number) && number.TryGetInt32(out n);
        }
    }

    [Fact]
    public async Task Publisher_killed_at_random_moments_and_restarted_on_its_store_never_reuses_a_seq_or_repeats_a_message()
    {
        const int Lives = 6;
        await using var run = new FaultRun(output, "publisher-kill");
        await run.RunAsync(async () =>
        {
            NodeProcess receiver = await run.StartNodeAsync("receiver", ["--listen", "127.0.0.1:0"]);
            string[] publisherArguments = ["--connect", $"127.0.0.1:{receiver.Port}", "--keys", run.PathFor("publisher.keys"), "--store", run.PathFor("publisher.db")];
            var written = new List<int>();
            string author = "";

            for (int life = 0; life < Lives; life++)
            {
                NodeProcess publisher = await run.StartNodeAsync($"publisher life {life}", publisherArguments);
                author = publisher.PublicKey;
                int first = life * PerRound, killAfter = run.Random.Next(1, PerRound - 10);
                Task<int> streaming = FaultRun.StreamAsync(publisher, Enumerable.Range(first, PerRound), run.Random.Next(), maxBurst: 4, maxPauseMilliseconds: 50);
                await receiver.WaitForLinesAsync(lines => lines.Count(l => l.N >= first && l.N < first + PerRound) >= killAfter, RoundTimeout, $"life {life}: {killAfter} of this life's messages arriving");
                await publisher.KillAsync(RoundTimeout);
                int count = await streaming;
                written.AddRange(Enumerable.Range(first, count));
                run.Log($"life {life}: killed after the receiver printed {receiver.Lines.Count(l => l.N >= first && l.N < first + PerRound)} of its messages (target {killAfter}); {count} lines written to its stdin");
            }

            // The last life is not killed: everything it publishes must arrive, under seqs never used before.
            NodeProcess survivor = await run.StartNodeAsync($"publisher life {Lives}", publisherArguments);
            int start = Lives * PerRound;
            int[] final = [.. Enumerable.Range(start, PerRound)];
            await FaultRun.StreamAsync(survivor, final, run.Random.Next());
            await survivor.PublishAsync(Marker);
            bool marker = await run.CompletesAsync(receiver.WaitForLinesAsync(lines => lines.Any(l => l.N == Marker), FinalTimeout, "the end marker of the last life"));

            IReadOnlyList<ReceivedLine> lines = receiver.Lines;
            var seqTwice = lines.GroupBy(l => l.Seq).Where(g => g.Count() > 1).Select(g => $"seq {g.Key}: n {string.Join(",", g.Select(l => l.N))}").ToList();
            Assert.True(seqTwice.Count == 0, $"a seq of the publisher was delivered twice ({seqTwice.Count}): {string.Join("; ", seqTwice.Take(20))}");
            int lost = written.Except(lines.Select(l => l.N)).Count();
            run.Log($"{written.Count} lines written to killed lives, {lost} of them never arrived (read from stdin but not yet published when killed: allowed)");
            int[] receivedFromKilled = [.. lines.Select(l => l.N).Where(n => n < start).Distinct()];
            FaultRun.AssertExactlyOnce(lines, [.. receivedFromKilled, .. final], author, "receiver", Marker);
            Assert.True(marker, "the end marker of the last life did not arrive");
        });
    }
}
