using SecureGossip.Engine;
using SecureGossip.Protocol.Flood;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Simulation;

/// <summary>Registers protocol v2 with the simulator (<c>sgossip sim --protocol v2</c>).</summary>
public static partial class ProtocolRegistry
{
    static partial void RegisterBuiltIns()
    {
        Register("v2", _ => GossipEngine.CreateV2(), "protocol v2 (docs/PROTOCOL.md): Plumtree with per-author trees, grafts, prunes and frontier anti-entropy");
        Register("v2-shared", _ => GossipEngine.CreateV2(new PlumtreeOptions { AuthorTrees = false }), "protocol v2 with one shared tree (plain Plumtree), for comparison");
    }
}
