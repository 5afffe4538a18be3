namespace SecureGossip.Protocol.Core;

/// <summary>
/// Everything a <see cref="IGossipProtocol"/> may do or know while it handles one event: the time, and the
/// actions it emits. The driver (the simulator, or a real transport) supplies it for the duration of each call;
/// a protocol must not keep it between calls.
/// </summary>
/// <remarks>
/// Actions take effect after the call returns, in the order they were emitted: a frame sent now arrives after
/// the link's latency, a timer set now fires after its delay. Nothing here blocks or performs IO.
/// </remarks>
public interface IGossipContext
{
    /// <summary>The node this call is for; neighbours are named with the same kind of number.</summary>
    int Self { get; }

    /// <summary>The current time: virtual in the simulator, the driver's clock on a real transport.</summary>
    TimeSpan Now { get; }

    /// <summary>
    /// The random source a protocol must use for its choices (timer phases, peer sampling), so a seeded
    /// simulation is reproducible.
    /// </summary>
    Random Random { get; }

    /// <summary>Sends <paramref name="frame"/> to the neighbour <paramref name="neighbour"/>; the link may delay or lose it.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="neighbour"/> is not a neighbour of <see cref="Self"/>.</exception>
    void Send(int neighbour, IGossipFrame frame);

    /// <summary>
    /// Asks for <see cref="IGossipProtocol.Timer"/> with <paramref name="timerId"/> after <paramref name="delay"/>.
    /// Timers cannot be cancelled: a protocol ignores a timer it no longer needs (a fresh id per purpose, or a
    /// check of its own state when it fires, does it).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delay"/> is negative.</exception>
    void SetTimer(TimeSpan delay, long timerId);

    /// <summary>
    /// Reports that <paramref name="message"/> was accepted and handed to the application. Call it once per
    /// message and node, and never for the node's own messages.
    /// </summary>
    /// <param name="message">The message delivered.</param>
    /// <param name="hops">How many links the delivered copy crossed since its author (carried in the frame), or 0 if the protocol cannot know.</param>
    void Deliver(MessageId message, int hops);

    /// <summary>Counts one signature verification performed (the dominant CPU cost of a real node).</summary>
    void CountVerify();

    /// <summary>
    /// Reports that <paramref name="neighbour"/> went far past a budget (by <see cref="PlumtreeOptions.MisbehaviourFactor"/>)
    /// or sent a frame the core deems abusive; once per reason and link session. The excess is already ignored: a
    /// driver may close the link and back off its address. The default does nothing (the simulator has no bad nodes).
    /// </summary>
    /// <param name="neighbour">The neighbour reported.</param>
    /// <param name="reason">A short reason for logs and counters (e.g. <c>ihave flood</c>).</param>
    void Misbehaved(int neighbour, string reason)
    {
    }
}
