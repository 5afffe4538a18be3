using SecureGossip.Simulation;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Tests.Simulation;

/// <summary>The driver's contract, seen from a protocol that only logs: start, links, latency, loss, failure, timers, publishing.</summary>
public sealed class SimulatorTests
{
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void Nodes_start_then_learn_their_live_neighbours_and_dead_nodes_never_run()
    {
        var probes = new ProbeProtocol?[4];
        Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Ring(4),
            KilledNodes = [2],
            Publishers = [0],
            Protocol = v => probes[v] = new ProbeProtocol(),
        });

        Assert.Null(probes[2]); // never created
        Assert.Equal(["start", "up 1"], probes[0]!.Log.Select(e => e.Event).Take(2));
        Assert.Equal(["start", "up 0"], probes[1]!.Log.Select(e => e.Event)); // 2 is dead: its link never comes up
        Assert.Equal(["start", "up 0"], probes[3]!.Log.Select(e => e.Event));
        Assert.Equal((TimeSpan.FromSeconds(1), "publish 0/0 100"), probes[0]!.Log[^1]);
    }

    [Fact]
    public void Frames_arrive_after_a_latency_in_range_in_order_per_link()
    {
        var probes = new ProbeProtocol[2];
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(2),
            MinLatency = 10 * Ms,
            MaxLatency = 50 * Ms,
            Publishers = [0],
            Protocol = v => probes[v] = new ProbeProtocol
            {
                OnTimer = (context, id) => context.Send(1 - context.Self, new ProbeFrame((int)id)),
                OnStart = context =>
                {
                    for (int i = 0; i < 200; i++)
                    {
                        context.SetTimer(i * Ms, i); // one frame a millisecond, latencies up to 40 ms apart
                    }
                },
            },
        });

        (TimeSpan Time, string Event)[] received = [.. probes[1].Log.Where(e => e.Event.StartsWith("frame", StringComparison.Ordinal))];
        Assert.Equal(200, received.Length);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"frame 0 #{i}"), received.Select(e => e.Event)); // FIFO
        TimeSpan previous = TimeSpan.Zero;
        for (int i = 0; i < 200; i++)
        {
            TimeSpan sent = i * Ms, arrived = received[i].Time;
            Assert.True(arrived >= sent + (10 * Ms));
            Assert.True(arrived <= sent + (50 * Ms) || arrived == previous); // or held back behind the frame before it
            Assert.True(arrived >= previous);
            previous = arrived;
        }

        Assert.Contains(received.Select((e, i) => e.Time - (i * Ms)), latency => latency > 30 * Ms); // not all the minimum
        Assert.Equal(400, result.FramesSent);
        Assert.Equal(4000, result.BytesSent);
        Assert.Equal(0, result.PayloadsSent);
    }

    [Fact]
    public void A_fixed_latency_is_exact_and_timers_fire_after_their_delay()
    {
        var probes = new ProbeProtocol[2];
        Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(2),
            MinLatency = 25 * Ms,
            MaxLatency = 25 * Ms,
            Publishers = [0],
            Protocol = v => probes[v] = new ProbeProtocol
            {
                OnStart = context => context.SetTimer(7 * Ms, 42),
                OnTimer = (context, _) =>
                {
                    if (context.Self == 0)
                    {
                        context.Send(1, new ProbeFrame(1));
                    }
                },
            },
        });

        Assert.Contains((7 * Ms, "timer 42"), probes[0].Log);
        Assert.Contains((32 * Ms, "frame 0 #1"), probes[1].Log);
    }

    [Fact]
    public void Events_at_the_same_instant_run_in_the_order_they_were_scheduled()
    {
        // 300 timers over three instants, then each one sets a zero-delay timer: those run at the same instant,
        // after every event already scheduled for it. The event heap orders by time only up to ties; the
        // scheduling order breaks them, and a run is reproducible only if it does.
        var random = new Random(5);
        int[] delays = [.. Enumerable.Range(0, 300).Select(_ => random.Next(5, 8))];
        var probes = new ProbeProtocol[2];
        Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(2),
            Publishers = [0],
            Protocol = v => probes[v] = new ProbeProtocol
            {
                OnStart = context =>
                {
                    for (int i = 0; i < delays.Length; i++)
                    {
                        context.SetTimer(delays[i] * Ms, i);
                    }
                },
                OnTimer = (context, id) =>
                {
                    if (id < 1000)
                    {
                        context.SetTimer(TimeSpan.Zero, id + 1000);
                    }
                },
            },
        });

        var expected = new List<(TimeSpan, string)>();
        foreach (int delay in new[] { 5, 6, 7 })
        {
            int[] ids = [.. Enumerable.Range(0, delays.Length).Where(i => delays[i] == delay)];
            expected.AddRange(ids.Select(i => (delay * Ms, $"timer {i}")));
            expected.AddRange(ids.Select(i => (delay * Ms, $"timer {i + 1000}")));
        }

        Assert.Equal(expected, probes[0].Log.Where(e => e.Event.StartsWith("timer", StringComparison.Ordinal)));
    }

    [Fact]
    public void Loss_drops_about_the_given_fraction_of_frames_and_counts_them()
    {
        var probes = new ProbeProtocol[2];
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(2),
            Loss = 0.25,
            Publishers = [0],
            Protocol = v => probes[v] = new ProbeProtocol
            {
                OnStart = context =>
                {
                    for (int i = 0; i < 4000 && context.Self == 0; i++)
                    {
                        context.Send(1, new ProbeFrame(i));
                    }
                },
            },
        });

        int arrived = probes[1].Log.Count(e => e.Event.StartsWith("frame", StringComparison.Ordinal));
        Assert.Equal(4000, result.FramesSent);
        Assert.Equal(4000 - arrived, result.FramesLost);
        Assert.InRange(result.FramesLost, 900, 1100);
    }

    [Fact]
    public void A_node_that_fails_later_tells_its_neighbours_and_stops_receiving()
    {
        var probes = new ProbeProtocol[3];
        Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(3),
            KilledNodes = [1],
            KillTime = 500 * Ms,
            Publishers = [0],
            Protocol = v => probes[v] = new ProbeProtocol
            {
                OnStart = context => context.SetTimer(600 * Ms, 1),
                OnTimer = (context, _) =>
                {
                    if (context.Self == 0)
                    {
                        context.Send(1, new ProbeFrame(9)); // to a dead neighbour: lost
                    }
                },
            },
        });

        Assert.Contains((500 * Ms, "down 1"), probes[0].Log);
        Assert.Contains((500 * Ms, "down 1"), probes[2].Log);
        Assert.Equal(["start", "up 0", "up 2"], probes[1].Log.Select(e => e.Event)); // no timer, no frame after 500 ms
    }

    [Fact]
    public void Messages_are_published_one_every_10_ms_from_1_s_with_a_sequence_per_author()
    {
        var probes = new ProbeProtocol[3];
        Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(3),
            Messages = 5,
            Publishers = [2, 0],
            PayloadBytes = 33,
            Protocol = v => probes[v] = new ProbeProtocol(),
        });

        Assert.Equal(
            [(1000 * Ms, "publish 2/0 33"), (1020 * Ms, "publish 2/1 33"), (1040 * Ms, "publish 2/2 33")],
            probes[2].Log.Where(e => e.Event.StartsWith("publish", StringComparison.Ordinal)));
        Assert.Equal(
            [(1010 * Ms, "publish 0/0 33"), (1030 * Ms, "publish 0/1 33")],
            probes[0].Log.Where(e => e.Event.StartsWith("publish", StringComparison.Ordinal)));
    }

    [Fact]
    public void Random_publishers_are_live_nodes()
    {
        var published = new List<int>();
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Ring(100),
            Messages = 50,
            KillFraction = 0.5,
            Protocol = _ => new ProbeProtocol { OnPublish = (context, _) => published.Add(context.Self) },
        });

        Assert.Equal(50, result.LiveNodes);
        Assert.Equal(50, published.Count);
        Assert.True(published.Distinct().Count() > 10);
    }

    [Fact]
    public void A_protocol_that_sends_to_a_stranger_or_delivers_an_unknown_message_is_stopped()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(3),
            Protocol = _ => new ProbeProtocol { OnStart = context => context.Send(context.Self == 0 ? 2 : 0, new ProbeFrame(0)) },
        }));
        Assert.Throws<InvalidOperationException>(() => Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(3),
            Protocol = _ => new ProbeProtocol { OnStart = context => context.Deliver(SimulationEngine.SimulatedId(0, 0), 1) }, // before it is published
        }));
    }

    [Fact]
    public void Delivering_twice_is_counted_as_a_duplicate_not_as_a_delivery()
    {
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(2),
            Publishers = [0],
            Protocol = _ => new ProbeProtocol
            {
                OnPublish = (context, message) => context.Send(1, new MessageFrame(message)),
                OnFrame = (context, _, frame) =>
                {
                    context.Deliver(((MessageFrame)frame).Message, 1);
                    context.Deliver(((MessageFrame)frame).Message, 1);
                },
            },
        });

        Assert.Equal(1, result.Deliveries);
        Assert.Equal(1, result.DuplicateDeliveries);
        Assert.Equal(1.0, result.DeliveredRatio);
        Assert.Equal("queue_empty", result.StopReason); // no timers: nothing left to happen
        Assert.Equal(1.0, result.Ldh);
    }

    [Fact]
    public void A_protocol_that_never_stops_is_stopped_at_the_time_cap()
    {
        SimulationResult result = Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Line(2),
            MaxTime = TimeSpan.FromSeconds(30),
            Protocol = _ => new ProbeProtocol
            {
                OnStart = context => context.SetTimer(10 * Ms, 0),
                OnTimer = (context, _) =>
                {
                    context.SetTimer(10 * Ms, 0);
                    context.Send(1 - context.Self, new ProbeFrame(0)); // chatter: never quiet
                },
            },
        });

        Assert.Equal("max_time", result.StopReason);
        Assert.True(result.VirtualTime <= TimeSpan.FromSeconds(30));
        Assert.Null(result.TimeTo100);
        Assert.Equal(0.0, result.DeliveredRatio);
    }

    [Fact]
    public void Options_out_of_range_are_refused()
    {
        Topology line = Topology.Line(3);
        Assert.Throws<ArgumentOutOfRangeException>(() => Simulator.Run(new SimulationOptions { Topology = line, Loss = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Simulator.Run(new SimulationOptions { Topology = line, KillFraction = -0.1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Simulator.Run(new SimulationOptions { Topology = line, Messages = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Simulator.Run(new SimulationOptions { Topology = line, MinLatency = 5 * Ms, MaxLatency = 4 * Ms }));
        Assert.Throws<ArgumentException>(() => Simulator.Run(new SimulationOptions { Topology = line, Publishers = [1], KilledNodes = [1] }));
        Assert.Throws<ArgumentException>(() => Simulator.Run(new SimulationOptions { Topology = line, KilledNodes = [0, 1, 2] }));
    }

    private sealed record MessageFrame(MessageId Message) : IGossipFrame
    {
        public int SizeBytes => 300;

        public int PayloadCount => 1;
    }
}
