using SecureGossip.Engine;
using SecureGossip.Protocol.Core;
using SecureGossip.Simulation;

namespace SecureGossip.Tests.TestSupport;

/// <summary>
/// An <see cref="IGossipContext"/> that records what the core does (frames sent, timers set, deliveries, verifies,
/// misbehaviour reports) on a virtual clock, for tests that drive a node's <see cref="GossipEngine"/> (and so its
/// <see cref="PlumtreeProtocol"/>) one event at a time.
/// </summary>
internal sealed class RecordingGossipContext : IGossipContext
{
    public HashSet<int> Neighbours { get; init; } = [];

    public List<(int To, IGossipFrame Frame)> Sent { get; } = [];

    public List<(TimeSpan Due, long Id)> Timers { get; } = [];

    public List<MessageId> Delivered { get; } = [];

    public List<(int Neighbour, string Reason)> Reports { get; } = [];

    public int Verifies { get; private set; }

    public int Self => 0;

    public TimeSpan Now { get; set; } = TimeSpan.FromSeconds(10);

    public Random Random { get; } = new(1);

    /// <summary>
    /// A started v2 engine (<see cref="GossipEngine.CreateV2"/>: messages are admitted, verified and committed by the
    /// engine, as in the simulator) with <paramref name="neighbours"/> up, nothing recorded yet, and the periodic sync
    /// (timer 2) not set.
    /// </summary>
    public static (GossipEngine Node, RecordingGossipContext Context) StartNode(int[] neighbours, PlumtreeOptions? options = null)
    {
        var context = new RecordingGossipContext { Neighbours = [.. neighbours] };
        GossipEngine node = GossipEngine.CreateV2(options);
        node.Start(context);
        foreach (int n in neighbours)
        {
            node.NeighbourUp(context, n);
        }

        context.Sent.Clear();
        context.Timers.RemoveAll(t => t.Id == 2); // the periodic sync is not under test here
        return (node, context);
    }

    /// <summary>The id of <paramref name="author"/>'s message <paramref name="seq"/>, known by its digest as the simulator makes it.</summary>
    public static MessageId Id(int author, long seq) => SimulationEngine.SimulatedId(author, seq);

    public IEnumerable<IGossipFrame> SentTo(int neighbour) => Sent.Where(s => s.To == neighbour).Select(s => s.Frame);

    public void Send(int neighbour, IGossipFrame frame)
    {
        Assert.Contains(neighbour, Neighbours);
        Sent.Add((neighbour, frame));
    }

    public void SetTimer(TimeSpan delay, long timerId) => Timers.Add((Now + delay, timerId));

    public void Deliver(MessageId message, int hops) => Delivered.Add(message);

    public void CountVerify() => Verifies++;

    public void Misbehaved(int neighbour, string reason) => Reports.Add((neighbour, reason));

    /// <summary>Advances the clock through every timer set so far, in order (virtual time; nothing sleeps).</summary>
    public void FireTimers(IGossipProtocol node)
    {
        var due = Timers.OrderBy(t => t.Due).ToList();
        Timers.Clear();
        foreach ((TimeSpan at, long id) in due)
        {
            Now = at > Now ? at : Now;
            node.Timer(this, id);
        }
    }

    /// <summary>Fires timers in time order (including those they set) up to <paramref name="until"/>; the clock ends there.</summary>
    public void FireTimersUntil(IGossipProtocol node, TimeSpan until)
    {
        while (Timers.Count > 0 && Timers.Min(t => t.Due) <= until)
        {
            (TimeSpan due, long id) = Timers.MinBy(t => t.Due);
            Timers.Remove((due, id));
            Now = due > Now ? due : Now;
            node.Timer(this, id);
        }

        Now = until;
    }
}
