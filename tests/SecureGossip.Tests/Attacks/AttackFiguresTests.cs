using System.Diagnostics;
using System.Net;
using SecureGossip.Crypto;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;
using Xunit.Abstractions;

namespace SecureGossip.Tests.Attacks;

/// <summary>
/// The figures of BENCHMARKS.md "Defences under attack": one v2 victim per attack, default options, over real TCP; the
/// process's descriptors, managed heap and working set before, during and after each attack. Only API that predates the
/// defences is used, so the file also builds on the pre-defence commit bd46e43 (with RawTcpPeer.cs and AttackLines.cs)
/// and yields the "before the defences" column there, where its assertions fail.
/// </summary>
[Collection(AttacksCollection.Name)]
public sealed class AttackFiguresTests(ITestOutputHelper output)
{
    private const int IdleSockets = 2_000;
    private const long ForgedLines = 100_000, JunkLines = 2_000_000;

    [Fact]
    public async Task Figures_of_a_node_under_idle_bad_signature_and_malformed_floods()
    {
        var failures = new List<string>(); // every attack runs and is reported, then the bounds are checked
        // 1. Idle connections: this process holds the attackers' sockets too, so the victim's share is the rest.
        await using (var victim = new Victim())
        {
            Snapshot before = Snapshot.Take();
            var idle = new List<RawTcpPeer>();
            for (int i = 0; i < IdleSockets; i++)
            {
                // From 100 addresses, 20 each: under the default per-address cap (32), so the global cap is what holds.
                idle.Add(await RawTcpPeer.ConnectAsync(victim.EndPoint, IPAddress.Parse($"127.0.2.{1 + (i % 100)}")));
            }

            // Accepted in order: once the last is admitted (a hello) or refused, the listener has seen them all.
            await Task.WhenAny(idle[^1].Admitted.Task, idle[^1].Closed.Task).WaitAsync(TimeSpan.FromSeconds(120));
            Snapshot during = Snapshot.Take();
            foreach (RawTcpPeer peer in idle)
            {
                await peer.DisposeAsync();
            }

            await victim.Node.WaitForPeersAsync(p => p.Count == 0, TimeSpan.FromSeconds(120));
            Snapshot after = Snapshot.Take();
            int victimDescriptors = during.Descriptors - before.Descriptors - IdleSockets;
            output.WriteLine($"idle sockets {IdleSockets:N0}: victim's descriptors +{victimDescriptors:N0} during, +{after.Descriptors - before.Descriptors} after; {Row(before, during, after)}");
            Check(failures, victimDescriptors <= 256 + 32, $"the victim held {victimDescriptors} descriptors for {IdleSockets} idle sockets (cap 256)");
        }

        // 3. Forged signatures, as fast as the socket takes them, until cut or ForgedLines written.
        await using (var victim = new Victim())
        {
            using GossipKeys forger = GossipKeys.Generate();
            Snapshot before = Snapshot.Take();
            await using RawTcpPeer attacker = await RawTcpPeer.ConnectAsync(victim.EndPoint, IPAddress.Loopback);
            var sampler = new Sampler();
            long written = await attacker.FloodAsync(
                batch =>
                {
                    sampler.Sample(batch);
                    return AttackLines.Join(Enumerable.Range(0, 64).Select(i => AttackLines.ForgedSignature(forger.Public, (batch * 64) + i)));
                },
                64,
                ForgedLines);
            await victim.Node.WhenIdleAsync();
            Snapshot after = Snapshot.Take();
            long verified = victim.Node.Statistics.SignaturesVerified;
            output.WriteLine($"forged signatures: {written:N0} lines written, {verified:N0} verified, cut {attacker.Closed.Task.IsCompleted}; {Row(before, sampler.Max, after)}");
            Check(failures, verified <= 21 + 512, $"{verified} forged signatures verified (budget 20, in-flight window 512)");
        }

        // 4. Lines that are not JSON, until cut or JunkLines written.
        await using (var victim = new Victim())
        {
            byte[] junk = AttackLines.NotJson(256);
            Snapshot before = Snapshot.Take();
            var sampler = new Sampler();
            long written;
            await using (RawTcpPeer attacker = await RawTcpPeer.ConnectAsync(victim.EndPoint, IPAddress.Loopback))
            {
                written = await attacker.FloodAsync(
                    batch =>
                    {
                        sampler.Sample(batch);
                        return junk;
                    },
                    256,
                    JunkLines);
                await victim.Node.WhenIdleAsync();
                output.WriteLine($"malformed lines: {written:N0} written, {victim.Node.Statistics.DroppedMalformed:N0} dropped, cut {attacker.Closed.Task.IsCompleted}");
            }

            await victim.Node.WaitForPeersAsync(p => p.Count == 0, TimeSpan.FromSeconds(120));
            Snapshot after = Snapshot.Take();
            output.WriteLine($"malformed lines: {Row(before, sampler.Max, after)}");
            Check(failures, after.Heap - before.Heap <= 16L << 20, $"the heap kept {Mb(after.Heap - before.Heap)} MB after the malformed flood");
        }

        Assert.Empty(failures);
    }

    private static void Check(List<string> failures, bool ok, string failure)
    {
        if (!ok)
        {
            failures.Add(failure);
        }
    }

    private static string Row(Snapshot before, Snapshot during, Snapshot after) =>
        $"heap {Mb(before.Heap)} / {Mb(during.Heap)} / {Mb(after.Heap)} MB, working set {Mb(before.WorkingSet)} / {Mb(during.WorkingSet)} / {Mb(after.WorkingSet)} MB (before / during / after)";

    private static string Mb(long bytes) => (bytes / 1048576.0).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);

    private readonly record struct Snapshot(long Heap, long WorkingSet, int Descriptors)
    {
        /// <summary>After a full collection: what is still referenced, and what the process holds.</summary>
        public static Snapshot Take()
        {
            long heap = GC.GetTotalMemory(forceFullCollection: true);
            using Process self = Process.GetCurrentProcess();
            return new Snapshot(heap, self.WorkingSet64, Directory.GetFiles("/proc/self/fd").Length);
        }
    }

    /// <summary>The largest heap (without collecting) and working set seen every 16th batch of a flood.</summary>
    private sealed class Sampler
    {
        public Snapshot Max { get; private set; }

        public void Sample(long batch)
        {
            if (batch % 16 != 0)
            {
                return;
            }

            using Process self = Process.GetCurrentProcess();
            long heap = GC.GetTotalMemory(forceFullCollection: false);
            Max = new Snapshot(Math.Max(Max.Heap, heap), Math.Max(Max.WorkingSet, self.WorkingSet64), 0);
        }
    }

    /// <summary>A default v2 node served by a TCP listener on 127.0.0.1.</summary>
    private sealed class Victim : IAsyncDisposable
    {
        private readonly TcpGossipListener _listener = TcpGossipListener.Start(new IPEndPoint(IPAddress.Loopback, 0), backlog: 512);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _serving;

        public Victim()
        {
            Node = new GossipNode(new GossipNodeOptions { AnnounceV2 = true });
            _serving = _listener.ServeAsync(Node, cancellationToken: _stop.Token);
        }

        public GossipNode Node { get; }

        public IPEndPoint EndPoint => _listener.LocalEndPoint;

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _listener.DisposeAsync();
            try
            {
                await _serving;
            }
            catch (OperationCanceledException)
            {
            }

            await Node.DisposeAsync();
            _stop.Dispose();
        }
    }
}
