namespace SecureGossip.Protocol.Membership;

/// <summary>
/// What a <see cref="HyParView{TPeer}"/> may do while it handles one event. The driver (the simulator, or a node's
/// link supervisor) supplies it for the duration of each call; actions take effect after the call returns, in order.
/// </summary>
/// <typeparam name="TPeer">How the driver names a peer: a node index in the simulator, a key and an address on real links.</typeparam>
public interface IMembershipContext<TPeer>
    where TPeer : notnull
{
    /// <summary>The current time: virtual in the simulator, the driver's clock on real links.</summary>
    TimeSpan Now { get; }

    /// <summary>The random source for every choice, so a seeded simulation is reproducible.</summary>
    Random Random { get; }

    /// <summary>
    /// Opens a link to <paramref name="peer"/>. The driver answers with <see cref="HyParView{TPeer}.LinkUp"/>
    /// (outbound) or <see cref="HyParView{TPeer}.DialFailed"/>; if a link to the peer is already open it answers
    /// <c>LinkUp</c> at once. At most one link per peer.
    /// </summary>
    void Dial(TPeer peer);

    /// <summary>Sends <paramref name="frame"/> on the open link to <paramref name="peer"/>; lost if the link is down.</summary>
    void Send(TPeer peer, MembershipFrame<TPeer> frame);

    /// <summary>Closes the link to <paramref name="peer"/> once what was sent on it before is written; no <c>LinkDown</c> follows.</summary>
    void Close(TPeer peer);

    /// <summary>Asks for <see cref="HyParView{TPeer}.Timer"/> with <paramref name="timerId"/> after <paramref name="delay"/>.</summary>
    void SetTimer(TimeSpan delay, long timerId);

    /// <summary><paramref name="peer"/> joined the active view: dissemination may use its link from now on.</summary>
    void NeighbourUp(TPeer peer);

    /// <summary><paramref name="peer"/> left the active view (it failed, or either side dropped it).</summary>
    void NeighbourDown(TPeer peer);
}
