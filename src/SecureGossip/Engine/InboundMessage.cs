using SecureGossip.Protocol.Core;

namespace SecureGossip.Engine;

/// <summary>A message as it arrived on a link, in the form the <see cref="GossipEngine"/> decides on.</summary>
/// <param name="Id">Its id: the author's number and the digest (docs/PROTOCOL.md §3.3), the same on real links and in the simulator.</param>
/// <param name="Sequence">The seq the envelope claims (the v1 seq rule compares it as secure-gossip 0.3.1 does).</param>
/// <param name="Frame">The frame it came in (null when not yet known: a line still to be verified): a <see cref="Protocol.Flood.V1Line"/>, or a v2 <see cref="PlumtreeMessage"/> (whose kind, hops and age the Plumtree core reads).</param>
public readonly record struct InboundMessage(MessageId Id, double Sequence, IGossipPayloadFrame? Frame);
