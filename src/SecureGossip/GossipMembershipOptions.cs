using SecureGossip.Protocol.Membership;
using SecureGossip.Transports;

namespace SecureGossip;

/// <summary>
/// A node that builds and heals its own links (docs/PROTOCOL.md §19): it joins through any of <see cref="Bootstrap"/>,
/// advertises <see cref="AdvertisedAddress"/> so others can dial it, and keeps a HyParView active view of neighbours,
/// replacing a failed one from its passive view at once. Set <see cref="GossipNodeOptions.Membership"/> to use it.
/// </summary>
public sealed class GossipMembershipOptions
{
    /// <summary>
    /// Where this node can be dialled, as others should dial it (<see cref="PeerAddress"/> text:
    /// <c>HOST:PORT</c>, <c>ws://HOST:PORT/PATH</c>, with <c>@KEY.ed25519@</c> in front on a private network). Never an
    /// unspecified address such as <c>0.0.0.0</c> or port 0. Required.
    /// </summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>Addresses of nodes to join through, tried in turn (and again whenever the node has no neighbour and nothing in reserve). Empty for the first node of a network.</summary>
    public IList<string> Bootstrap { get; } = [];

    /// <summary>Addresses remembered from an earlier run (the passive view a store kept), tried before the bootstrap addresses.</summary>
    public IList<string> Remembered { get; } = [];

    /// <summary>
    /// Membership frames a link may send a second (256, far above what joins and shuffles need even while hundreds of
    /// nodes join through this one); more are dropped and counted (<see cref="GossipNodeStatistics.MembershipFramesDropped"/>),
    /// and a link that sends four times as many within a second is cut. Every accepted frame can make this node send or
    /// dial, so a peer must not be able to ask without limit.
    /// </summary>
    public int MaxFramesPerSecond { get; set; } = 256;

    /// <summary>The HyParView sizes, walks and periods.</summary>
    public HyParViewOptions HyParView { get; set; } = new();

    internal void Validate()
    {
        if (AdvertisedAddress is null)
        {
            throw new ArgumentException("Membership needs the address this node can be dialled at (GossipMembershipOptions.AdvertisedAddress).", nameof(AdvertisedAddress));
        }

        if (!PeerAddress.TryParse(AdvertisedAddress, out PeerAddress? advertised, out string? error))
        {
            throw new ArgumentException($"AdvertisedAddress: {error}", nameof(AdvertisedAddress));
        }

        if (!advertised!.IsDialable)
        {
            throw new ArgumentException($"AdvertisedAddress '{AdvertisedAddress}' cannot be dialled by others (an unspecified address such as 0.0.0.0, or port 0): advertise the address peers reach this node at.", nameof(AdvertisedAddress));
        }

        foreach (string address in Bootstrap.Concat(Remembered))
        {
            if (!PeerAddress.TryParse(address, out _, out string? bad))
            {
                throw new ArgumentException($"Bootstrap: {bad}", nameof(Bootstrap));
            }
        }

        if (MaxFramesPerSecond < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFramesPerSecond), MaxFramesPerSecond, "At least one membership frame a second must be allowed.");
        }

        ArgumentNullException.ThrowIfNull(HyParView);
        HyParView.Validate();
    }
}
