using SecureGossip.Simulation;

namespace SecureGossip.Tests.Simulation;

/// <summary>The simulator's event queue: by time, first-in first-out at one instant, and bounded in virtual time.</summary>
public sealed class EventQueueTests
{
    [Fact]
    public void Events_come_out_by_time_and_in_scheduling_order_at_one_instant()
    {
        var queue = new EventQueue();
        (long Time, int Node)[] scheduled = [(50, 1), (10, 2), (50, 3), (10, 4), (0, 5), (50, 6), (10, 7)];
        foreach ((long time, int node) in scheduled)
        {
            queue.Enqueue(time, new SimEvent { Node = node });
        }

        var order = new List<(long, int)>();
        while (queue.TryPeekTime(out long time))
        {
            order.Add((time, queue.Dequeue().Node));
        }

        Assert.Equal(scheduled.OrderBy(e => e.Time), order); // OrderBy is stable: ties keep their scheduling order
        Assert.Equal(scheduled.Length, queue.PeakCount);
    }

    [Fact]
    public void A_time_beyond_what_the_queue_holds_is_refused_with_a_clear_error()
    {
        var queue = new EventQueue();
        var error = Assert.Throws<InvalidOperationException>(() => queue.Enqueue(EventQueue.TimeLimit, new SimEvent()));
        Assert.Contains("virtual time", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => queue.Enqueue(-1, new SimEvent()));
        queue.Enqueue(EventQueue.TimeLimit - 1, new SimEvent { Node = 9 }); // the last tick it holds
        Assert.True(queue.TryPeekTime(out long last));
        Assert.Equal(EventQueue.TimeLimit - 1, last);
    }

    [Fact]
    public void The_options_refuse_a_maximum_time_the_queue_cannot_reach()
    {
        Assert.True(SimulationOptions.MaxTimeLimit.Ticks < EventQueue.TimeLimit);
        Assert.Throws<ArgumentOutOfRangeException>(() => Simulator.Run(new SimulationOptions
        {
            Topology = Topology.Ring(10),
            MaxTime = SimulationOptions.MaxTimeLimit + TimeSpan.FromTicks(1),
        }));
    }
}
