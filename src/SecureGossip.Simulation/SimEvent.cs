using SecureGossip.Protocol.Core;
namespace SecureGossip.Simulation;

/// <summary>What happens at one instant of virtual time to one node.</summary>
internal enum EventKind : byte
{
    Start,
    NeighbourUp,
    NeighbourDown,
    Publish,
    Frame,
    Timer,
    Kill,
    Partition,
    Heal,
}

/// <summary>
/// One scheduled event, a plain struct in the queue's array. <see cref="Order"/> breaks ties in time by
/// scheduling order, so events at the same instant run first-in first-out and a run is reproducible.
/// </summary>
internal struct SimEvent
{
    public long Time;
    public long Order;
    public IGossipFrame? Frame;
    public long TimerId; // for a frame: the epoch of its link when it was sent (a cut in between loses it)
    public int Node;
    public int Other; // the sending neighbour, the neighbour that went up or down, or the message index
    public EventKind Kind;
}
