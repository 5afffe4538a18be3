using Microsoft.Extensions.Logging;
using SecureGossip.Protocol;
using SecureGossip.Transports;

namespace SecureGossip;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Peer {Connection} connected")]
    public static partial void PeerConnected(ILogger logger, GossipConnection connection);

    [LoggerMessage(2, LogLevel.Information, "Peer {Connection} disconnected")]
    public static partial void PeerDisconnected(ILogger logger, GossipConnection connection);

    [LoggerMessage(3, LogLevel.Debug, "Peer {Connection} failed")]
    public static partial void PeerFailed(ILogger logger, GossipConnection connection, Exception exception);

    [LoggerMessage(4, LogLevel.Debug, "Dropped a {Length}-byte line from {Connection}: longer than the {Limit}-byte limit")]
    public static partial void LineTooLong(ILogger logger, GossipConnection connection, long length, int limit);

    [LoggerMessage(5, LogLevel.Debug, "Dropped a line: {Reason}")]
    public static partial void LineDropped(ILogger logger, DropReason reason);

    [LoggerMessage(6, LogLevel.Trace, "Accepted seq {Seq} from {Author}")]
    public static partial void MessageAccepted(ILogger logger, string author, double seq);

    [LoggerMessage(7, LogLevel.Warning, "A MessageReceived handler threw")]
    public static partial void HandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(9, LogLevel.Information, "Peer {Connection} speaks protocol v{Version}")]
    public static partial void PeerNegotiated(ILogger logger, GossipConnection connection, int version);

    [LoggerMessage(10, LogLevel.Debug, "Ignored a protocol v2 frame this version does not handle: {Frame}")]
    public static partial void V2FrameIgnored(ILogger logger, string frame);

    [LoggerMessage(11, LogLevel.Debug, "Dropped a protocol v2 frame from {Connection}: {Error}")]
    public static partial void V2FrameDropped(ILogger logger, GossipConnection connection, string error);

    [LoggerMessage(12, LogLevel.Error, "Protocol v2 core failed")]
    public static partial void CoreFailed(ILogger logger, Exception exception);

    [LoggerMessage(13, LogLevel.Warning, "The store failed; the message stays in memory only")]
    public static partial void StoreFailed(ILogger logger, Exception exception);

    [LoggerMessage(14, LogLevel.Warning, "Closing peer {Connection}: its hello carries our own key (the node connected to itself)")]
    public static partial void SelfConnection(ILogger logger, GossipConnection connection);

    [LoggerMessage(15, LogLevel.Debug, "Peer {Connection} did not say hello: sending it {Count} retained messages as v1 lines")]
    public static partial void V1CatchUp(ILogger logger, GossipConnection connection, int count);

    [LoggerMessage(8, LogLevel.Warning, "Closing peer {Connection}: more than {Limit} bytes queued for it (it is not reading)")]
    public static partial void PeerTooSlow(ILogger logger, GossipConnection connection, long limit);
}
