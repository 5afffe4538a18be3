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
/// One scheduled event, a plain struct in the queue; its time (and the scheduling order that breaks ties) is its
/// priority in <see cref="EventQueue"/>.
/// </summary>
internal struct SimEvent
{
    public IGossipFrame? Frame;
    public long TimerId; // for a frame: when it was sent (a partition in between loses it)
    public int Node;
    public int Other; // the sending neighbour, the neighbour that went up or down, or the message index
    public EventKind Kind;
}
