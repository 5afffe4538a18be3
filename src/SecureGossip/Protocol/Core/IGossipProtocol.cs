namespace SecureGossip.Protocol.Core;

/// <summary>
/// A gossip protocol as one node's state machine, free of IO, threads and clocks: it is fed events and answers
/// with actions on the <see cref="IGossipContext"/> it is given (send a frame, set a timer, deliver a message,
/// count a verification). The simulator drives thousands of them on a virtual clock; a real transport drives the
/// same core with sockets and a <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// Calls for one node never overlap. The driver calls <see cref="Start"/> first, then
/// <see cref="NeighbourUp"/> for each neighbour that is up; a node that fails simply receives no more calls.
/// </remarks>
public interface IGossipProtocol
{
    /// <summary>The node starts (set the first timers here).</summary>
    void Start(IGossipContext context);

    /// <summary>The local application publishes a message of <paramref name="payloadBytes"/> bytes; the driver chose its <paramref name="message"/> id (this node as author, and the digest that names it everywhere).</summary>
    void Publish(IGossipContext context, MessageId message, int payloadBytes);

    /// <summary>A frame arrived from the neighbour <paramref name="fromNeighbour"/>.</summary>
    void FrameReceived(IGossipContext context, int fromNeighbour, IGossipFrame frame);

    /// <summary>A timer set with <see cref="IGossipContext.SetTimer"/> fired.</summary>
    void Timer(IGossipContext context, long timerId);

    /// <summary>A link to <paramref name="neighbour"/> came up: frames can be sent to it from now on.</summary>
    void NeighbourUp(IGossipContext context, int neighbour);

    /// <summary>The link to <paramref name="neighbour"/> went down (the neighbour failed); frames sent to it are lost.</summary>
    void NeighbourDown(IGossipContext context, int neighbour);
}
