namespace SecureGossip.Simulation;

/// <summary>What happens at one instant of an <see cref="OverlaySimulation"/>.</summary>
internal enum OverlayEventKind : byte
{
    Start,
    DialArrive,
    DialUp,
    DialFailed,
    Frame,
    LinkDown,
    MembershipTimer,
    GossipTimer,
    Publish,
    Kill,
    Churn,
    Check,
}

/// <summary>One scheduled event of an <see cref="OverlaySimulation"/>, a plain struct in its queue.</summary>
internal struct OverlayEvent
{
    public object? Frame;
    public long Value; // a link's generation, or a timer id
    public int Node; // whom it happens to
    public int Other; // the peer, or the message index
    public OverlayEventKind Kind;
}
