using System.Net;

namespace SecureGossip;

/// <summary>One connected neighbour.</summary>
/// <param name="ConnectionId">The connection's id (as in logs).</param>
/// <param name="RemoteEndPoint">Its address, where the transport has one.</param>
/// <param name="Version">1 (secure-gossip 0.3.1 lines), or 2 once both sides announced protocol v2.</param>
public sealed record GossipPeerInfo(string ConnectionId, EndPoint? RemoteEndPoint, int Version);
