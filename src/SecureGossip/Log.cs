using Microsoft.Extensions.Logging;
using SecureGossip.Protocol;
using SecureGossip.Transports;

namespace SecureGossip;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Connection {Connection} opened")]
    public static partial void PeerConnected(ILogger logger, GossipConnection connection);

    [LoggerMessage(2, LogLevel.Debug, "Connection {Connection} closed: {Reason}")]
    public static partial void PeerDisconnected(ILogger logger, GossipConnection connection, string reason);

    [LoggerMessage(3, LogLevel.Warning, "Link {Connection}: closing it failed ({Error}); it is closed anyway")]
    public static partial void PeerCloseFailed(ILogger logger, GossipConnection connection, string error);

    [LoggerMessage(16, LogLevel.Information, "Link {Connection} up (protocol v{Version})")]
    public static partial void LinkUp(ILogger logger, GossipConnection connection, int version);

    [LoggerMessage(17, LogLevel.Information, "Link {Connection} down: {Reason}")]
    public static partial void LinkDown(ILogger logger, GossipConnection connection, string reason);

    [LoggerMessage(18, LogLevel.Warning, "Link {Connection} down: {Reason}")]
    public static partial void LinkFailed(ILogger logger, GossipConnection connection, string reason);

    [LoggerMessage(19, LogLevel.Error, "Link {Connection}: a step of closing it failed unexpectedly; the link is ended anyway")]
    public static partial void LinkStepFailed(ILogger logger, GossipConnection connection, Exception exception);


    [LoggerMessage(40, LogLevel.Information, "Connection {Connection} refused before the protocol: {Reason}")]
    public static partial void HandshakeFailed(ILogger logger, GossipConnection connection, string reason);

    [LoggerMessage(41, LogLevel.Debug, "Connection {Connection} refused before the protocol: {Reason}")]
    public static partial void HandshakeFailedQuietly(ILogger logger, GossipConnection connection, string reason);

    [LoggerMessage(24, LogLevel.Debug, "No v1 catch-up for {Connection}: {Reason}")]
    public static partial void CatchUpSkipped(ILogger logger, GossipConnection connection, string reason);

    [LoggerMessage(21, LogLevel.Error, "The link supervisor failed; it runs again on its next tick")]
    public static partial void SupervisorFailed(ILogger logger, Exception exception);

    [LoggerMessage(22, LogLevel.Error, "The commit loop failed; restarting it")]
    public static partial void CommitLoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(23, LogLevel.Information, "Status: {Links} links ({V2Links} v2), accepted {AcceptedPerSecond:0.#}/s, published {PublishedPerSecond:0.#}/s, sent {SentPerSecond:0.#} lines/s; dropped since last status: {BadSignature} bad signature, {Malformed} malformed, {TooLong} too long, {Duplicate} duplicate; {Cut} peers cut; store lag {StoreLagMs} ms; {Suppressed} link events not logged")]
    public static partial void Status(ILogger logger, int links, int v2Links, double acceptedPerSecond, double publishedPerSecond, double sentPerSecond, long badSignature, long malformed, long tooLong, long duplicate, long cut, double storeLagMs, long suppressed);

    [LoggerMessage(4, LogLevel.Debug, "Dropped a {Length}-byte line from {Connection}: longer than the {Limit}-byte limit")]
    public static partial void LineTooLong(ILogger logger, GossipConnection connection, long length, int limit);

    [LoggerMessage(5, LogLevel.Debug, "Dropped a line: {Reason}")]
    public static partial void LineDropped(ILogger logger, DropReason reason);

    [LoggerMessage(6, LogLevel.Trace, "Accepted seq {Seq} from {Author}")]
    public static partial void MessageAccepted(ILogger logger, string author, double seq);

    [LoggerMessage(7, LogLevel.Warning, "A MessageReceived handler threw")]
    public static partial void HandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(9, LogLevel.Debug, "Peer {Connection} speaks protocol v{Version}")]
    public static partial void PeerNegotiated(ILogger logger, GossipConnection connection, int version);

    [LoggerMessage(10, LogLevel.Debug, "Ignored a protocol v2 frame this version does not handle: {Frame}")]
    public static partial void V2FrameIgnored(ILogger logger, string frame);

    [LoggerMessage(11, LogLevel.Debug, "Dropped a protocol v2 frame from {Connection}: {Error}")]
    public static partial void V2FrameDropped(ILogger logger, GossipConnection connection, string error);

    [LoggerMessage(12, LogLevel.Error, "Protocol v2 core failed")]
    public static partial void CoreFailed(ILogger logger, Exception exception);

    [LoggerMessage(13, LogLevel.Error, "The store failed; the message stays in memory only")]
    public static partial void StoreFailed(ILogger logger, Exception exception);

    [LoggerMessage(14, LogLevel.Warning, "Closing link {Connection}: its hello carries our own key (the node connected to itself)")]
    public static partial void SelfConnection(ILogger logger, GossipConnection connection);

    [LoggerMessage(15, LogLevel.Debug, "Peer {Connection} did not say hello: sending it {Count} retained messages as v1 lines")]
    public static partial void V1CatchUp(ILogger logger, GossipConnection connection, int count);

    [LoggerMessage(70, LogLevel.Debug, "Connection {Connection} is for the topic {Topic}")]
    public static partial void ConnectionRouted(ILogger logger, GossipConnection connection, string topic);

    [LoggerMessage(71, LogLevel.Debug, "Connection {Connection} closed: it is for the topic {Topic}, which this node has not joined")]
    public static partial void ConnectionRefusedTopic(ILogger logger, GossipConnection connection, string topic);

    [LoggerMessage(64, LogLevel.Information, "Neighbour up: {Peer} (topic {Topic})")]
    public static partial void TopicNeighbourUp(ILogger logger, string peer, string topic);

    [LoggerMessage(65, LogLevel.Information, "Neighbour down: {Peer} (topic {Topic})")]
    public static partial void TopicNeighbourDown(ILogger logger, string peer, string topic);

    [LoggerMessage(60, LogLevel.Information, "Neighbour up: {Peer}")]
    public static partial void NeighbourUp(ILogger logger, string peer);

    [LoggerMessage(61, LogLevel.Information, "Neighbour down: {Peer}")]
    public static partial void NeighbourDown(ILogger logger, string peer);

    [LoggerMessage(62, LogLevel.Debug, "Membership could not dial {Peer}: {Error}")]
    public static partial void DialFailed(ILogger logger, string peer, string error);

    [LoggerMessage(63, LogLevel.Error, "Membership failed on an event; it goes on with the next")]
    public static partial void MembershipFailed(ILogger logger, Exception exception);
}
