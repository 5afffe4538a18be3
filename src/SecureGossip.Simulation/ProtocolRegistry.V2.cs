using SecureGossip.Engine;
using SecureGossip.Protocol.Flood;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Simulation;

/// <summary>Registers protocol v2 with the simulator (<c>sgossip sim --protocol v2</c>).</summary>
public static partial class ProtocolRegistry
{
    static partial void RegisterBuiltIns()
    {
        Register("v2", _ => GossipEngine.CreateV2(), "protocol v2 (docs/PROTOCOL.md): Plumtree over rooted trees built by beacons (each message rides the tree rooted nearest its author), grafts, prunes and frontier anti-entropy");
        Register("v2-author-trees", _ => GossipEngine.CreateV2(new PlumtreeOptions { RootedTrees = false }), "protocol v2 without rooted trees: a shared tree and per-author trees shaped by duplicates (v2 before issue #10), for comparison");
        Register("v2-shared", _ => GossipEngine.CreateV2(new PlumtreeOptions { AuthorTrees = false, RootedTrees = false }), "protocol v2 with one shared tree (plain Plumtree), for comparison");
    }
}
