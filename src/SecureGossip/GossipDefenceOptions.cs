namespace SecureGossip;

/// <summary>
/// What one peer may cost a <see cref="GossipNode"/> before it is cut (<see cref="GossipNodeOptions.Defences"/>).
/// Every defence is on by default and counted in <see cref="GossipNodeStatistics"/>; a peer over a budget has its
/// connection closed and its address refused (and not dialled) for <see cref="BackOff"/>.
/// </summary>
/// <remarks>
/// Budgets count per connection over fixed windows of <see cref="BudgetWindow"/>. Only what no honest peer sends is
/// charged: an honest .NET or JS peer forwards only lines that verified, so an invalid signature or bytes that are
/// not JSON mean a broken or hostile peer. A JS 0.3.1 relay forwards lines this node refuses (longer than
/// <see cref="GossipNodeOptions.MaxLineLength"/>, nested deeper than <see cref="GossipNodeOptions.MaxJsonDepth"/>, a
/// string <c>seq</c>): those are dropped and counted but charged only on v2 links, whose peers apply the same limits.
/// Frame types of a later protocol version are ignored, never charged.
/// </remarks>
public sealed class GossipDefenceOptions
{
    /// <summary>
    /// Inbound connections a listener holds at once (default 256). At the cap a new connection evicts the oldest one
    /// that has delivered no valid message; if every connection has, the new one is refused.
    /// </summary>
    public int MaxInboundConnections { get; set; } = 256;

    /// <summary>Inbound connections from one IPv4 address or IPv6 /64 at once (default 32; the next one is refused).</summary>
    public int MaxInboundPerAddress { get; set; } = 32;

    /// <summary>The window over which the per-connection budgets below are counted (default 10 s).</summary>
    public TimeSpan BudgetWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Lines whose key or signature is invalid, per connection per window (default 20).</summary>
    public int InvalidSignatureBudget { get; set; } = 20;

    /// <summary>Malformed lines and v2 frames (not JSON; on v2 links also not a message, too deep, an undecodable frame), per connection per window (default 1,000).</summary>
    public int MalformedBudget { get; set; } = 1000;

    /// <summary>Lines over <see cref="GossipNodeOptions.MaxLineLength"/> (v2 frames over it plus 1 KiB, the limit our hello announces) on v2 links, per connection per window (default 4).</summary>
    public int OversizeBudget { get; set; } = 4;

    /// <summary>
    /// Author names one connection's v2 frames may add to the node's table over its lifetime (default 10,000). Frames
    /// are unsigned and the table is shared and bounded (100,000 names), so one peer must not be able to fill it; an
    /// honest peer names only authors it holds messages of, which a node it syncs with mostly knows already.
    /// </summary>
    public int MaxAuthorsIntroducedPerLink { get; set; } = 10_000;

    /// <summary>
    /// How long the address of a peer cut for exceeding a budget is refused and not dialled (default 60 s); its other
    /// connections are closed with it.
    /// </summary>
    public TimeSpan BackOff { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Addresses remembered as backed off at once (default 10,000; the oldest is forgotten first).</summary>
    public int MaxBackedOffAddresses { get; set; } = 10_000;

    /// <summary>
    /// Authors whose keys the node keeps decoded (default 100,000). Keys are free to make, so past this the authors
    /// with nothing in flight are forgotten and decoded again if they return. With protocol v1 (the seq rule) an
    /// author's highest seq lives here, so the v1 mode keeps every author, as secure-gossip 0.3.1 does.
    /// </summary>
    public int MaxAuthors { get; set; } = 100_000;

    internal void Validate()
    {
        Check(MaxInboundConnections >= 1, nameof(MaxInboundConnections), MaxInboundConnections, "At least one inbound connection.");
        Check(MaxInboundPerAddress >= 1, nameof(MaxInboundPerAddress), MaxInboundPerAddress, "At least one inbound connection per address.");
        Check(BudgetWindow > TimeSpan.Zero, nameof(BudgetWindow), BudgetWindow, "The budget window must be positive.");
        Check(InvalidSignatureBudget >= 1, nameof(InvalidSignatureBudget), InvalidSignatureBudget, "Budgets must be at least 1.");
        Check(MalformedBudget >= 1, nameof(MalformedBudget), MalformedBudget, "Budgets must be at least 1.");
        Check(OversizeBudget >= 1, nameof(OversizeBudget), OversizeBudget, "Budgets must be at least 1.");
        Check(BackOff >= TimeSpan.Zero, nameof(BackOff), BackOff, "The back-off must not be negative (zero: cut peers may come back at once).");
        Check(MaxBackedOffAddresses >= 1, nameof(MaxBackedOffAddresses), MaxBackedOffAddresses, "At least one address.");
        Check(MaxAuthors >= 16, nameof(MaxAuthors), MaxAuthors, "At least 16 authors.");
        Check(MaxAuthorsIntroducedPerLink >= 1, nameof(MaxAuthorsIntroducedPerLink), MaxAuthorsIntroducedPerLink, "At least one author per link.");
    }

    private static void Check(bool ok, string name, object value, string message)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException($"{nameof(GossipNodeOptions.Defences)}.{name}", value, message);
        }
    }
}
