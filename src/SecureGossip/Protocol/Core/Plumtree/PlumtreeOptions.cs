namespace SecureGossip.Protocol.Core;

/// <summary>The timers and limits of protocol v2 (docs/PROTOCOL.md §14); defaults are the deployment defaults.</summary>
public sealed record PlumtreeOptions
{
    /// <summary>Lazy announcements are batched and sent this often (10 ms).</summary>
    public TimeSpan IHaveInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// Wait after the first announcement of a missing message before grafting (100 ms). The design's first figure,
    /// 250 ms, measured worse on every count: a node cut off by a tree change waits that long, and trees under a
    /// fast author settle more slowly (3 publishers at 100 msgs/s, 200 nodes: 13.5 % of deliveries by graft and
    /// 658 ms to 99 % at 250 ms; 8.6 % and 398 ms at 100 ms; iroh-gossip uses 80 ms).
    /// </summary>
    public TimeSpan GraftTimeout1 { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Wait between grafts to further announcers (100 ms, doubling per round up to <see cref="GraftTimeoutMax"/>):
    /// about a round trip, as the Plumtree paper says. 50 ms, less than the simulator's mean round trip of 60 ms,
    /// sent a second graft before the first was answered and so a duplicate payload (random publishers, 200 nodes:
    /// rmr 0.80 at 50 ms, 0.57 at 100 ms; steady state with 10 publishers 0.010 and 0.005).
    /// </summary>
    public TimeSpan GraftTimeout2 { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between grafts (1.6 s).</summary>
    public TimeSpan GraftTimeoutMax { get; init; } = TimeSpan.FromMilliseconds(1600);

    /// <summary>A missing message is given up (left to anti-entropy) after this long (30 s).</summary>
    public TimeSpan MissingTtl { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Delta frontiers are sent this often, jittered ±10 % (1 s).</summary>
    public TimeSpan SyncInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// An author stays in deltas for this many sync intervals after a change (5). A node whose only live link
    /// lost the eager copy learns of the message from these deltas alone: with 10 % frame loss, losing all five
    /// has a probability of 10⁻⁵ (three, the design's first figure, left one delivery in 80,000 missing).
    /// </summary>
    public int SyncWindows { get; init; } = 5;

    /// <summary>
    /// Send delta frontiers every <see cref="SyncInterval"/> (default true). They repair frames lost on links that
    /// stay up, which the simulator's lossy links do and TCP does not: a node on reliable links turns them off
    /// and relies on announcements, grafts and the full frontier of every new connection.
    /// </summary>
    public bool SendDeltas { get; init; } = true;

    /// <summary>Messages accepted more recently than this are not pushed or requested because of a delta (1 s).</summary>
    public TimeSpan SyncGrace { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Messages are served to peers that lack them (anti-entropy, grafts) until this old (24 h), counted from their
    /// first acceptance anywhere as the frames' <c>age</c> estimates it (docs/PROTOCOL.md §9.5).
    /// </summary>
    public TimeSpan RetainAge { get; init; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Only the newest this many messages of each author are retained (1,000), except that a message accepted less than
    /// <see cref="RetainWhileSpreading"/> ago is kept past it (up to 16,384 more, which one <c>sync</c> frame still
    /// carries): a burst larger than this count is still served to the neighbours it was announced to (docs/PROTOCOL.md §9.5).
    /// </summary>
    public int RetainCountPerAuthor { get; init; } = 1000;

    /// <summary>
    /// How long a message accepted here is kept whatever <see cref="RetainCountPerAuthor"/> says (30 s), so that the
    /// neighbours it was announced or held for can still pull it; <see cref="RetainMaxMessages"/> still bounds memory
    /// (past it, the author over its count loses its oldest first). <see cref="TimeSpan.Zero"/>: the count is strict.
    /// </summary>
    public TimeSpan RetainWhileSpreading { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Messages retained in all, whatever the number of authors (default 100,000): keys are free to make, so the
    /// per-author count alone does not bound memory. Past it the oldest retained message goes first.
    /// </summary>
    public int RetainMaxMessages { get; init; } = 100_000;

    /// <summary>
    /// How many digests of accepted messages are remembered as seen (1,000,000, oldest forgotten first), unless the
    /// driver keeps them (<see cref="SeenDigests"/>).
    /// </summary>
    public int MaxSeenDigests { get; init; } = 1_000_000;

    /// <summary>
    /// The seen-set of digests, when the driver already keeps one (a node remembers the ids it accepted): the core
    /// then asks it instead of keeping a second copy, and <see cref="MaxSeenDigests"/> does not apply.
    /// </summary>
    public IDigestSet? SeenDigests { get; init; }

    /// <summary>
    /// Most messages known to be missing (announced but not received, or wanted after a delta) at once (16,384):
    /// further announcements are left to anti-entropy, so a neighbour announcing ids that never come cannot grow
    /// the node's memory.
    /// </summary>
    public int MaxMissing { get; init; } = 16_384;

    /// <summary>
    /// Most missing ids one neighbour can be recorded as the announcer of (4,096, a quarter of
    /// <see cref="MaxMissing"/>): a neighbour announcing ids that never come fills its share, not the table, so
    /// honest neighbours' announcements are still followed.
    /// </summary>
    public int MaxMissingPerNeighbour { get; init; } = 4096;

    /// <summary>
    /// Unknown ids a neighbour may announce per second (16,384, burst the same): the excess is ignored (left to the
    /// eager push and anti-entropy). Ids the node already has are not counted, so a neighbour forwarding a catch-up
    /// it shares with us costs nothing; honest unknown ids arrive at the rate messages are published.
    /// </summary>
    public double IHaveRate { get; init; } = 16_384;

    /// <summary>
    /// Most ids asked of one neighbour (grafts sent and wants queued or sent) and not yet settled at once (1,024, the
    /// ids of one <c>want</c> frame): what the node sends back can never be proportional to what a neighbour claims.
    /// </summary>
    public int MaxWantsPerNeighbour { get; init; } = 1024;

    /// <summary>
    /// Ids the node asks of one neighbour per second, in grafts and wants (1,024, burst the same). A graft over budget
    /// waits for the budget or goes to another announcer; over 35 s an ihave flood gets at most this many a second.
    /// Honest grafts follow the message rate and are a small fraction of deliveries (under 10 % in the simulator).
    /// </summary>
    public double WantRate { get; init; } = 1024;

    /// <summary>
    /// Messages sent to one neighbour per second in answer to its grafts and wants (4,096, burst the same); the
    /// rest wait in order, so a neighbour wanting everything gets it paced. The catch-up of a full frontier is not
    /// counted: it is answered once per link session and <see cref="FullSyncMinInterval"/>.
    /// </summary>
    public double ResponseRate { get; init; } = 4096;

    /// <summary>Most answers waiting for <see cref="ResponseRate"/> per neighbour (4,096); further requests are dropped.</summary>
    public int MaxDeferredResponses { get; init; } = 4096;

    /// <summary>
    /// Most authors one neighbour's unsigned frames (<c>graft</c>, <c>prune</c>) may make the core keep state for
    /// (1,024); a frame naming another new author is ignored, and what a neighbour introduced alone is forgotten when
    /// its link goes down. Authors of verified messages are not counted.
    /// </summary>
    public int MaxAuthorsPerNeighbour { get; init; } = 1024;

    /// <summary>
    /// A neighbour asking this many times a budget (announcements, wants to answer) within one second is reported
    /// through <see cref="IGossipContext.Misbehaved"/> (4): a busy honest neighbour stays near its budget, and the
    /// excess is ignored anyway, so only a flood goes this far.
    /// </summary>
    public int MisbehaviourFactor { get; init; } = 4;

    /// <summary>A link's full frontier is answered at most this often within one session of the link (10 s).</summary>
    public TimeSpan FullSyncMinInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Most digests listed in one <c>sync</c> frame; a larger full frontier is sent in pages (4,096).</summary>
    public int MaxFrontierItemsPerFrame { get; init; } = 4096;

    /// <summary>Per-author trees (true), or plain Plumtree with one shared tree (false).</summary>
    public bool AuthorTrees { get; init; } = true;

    /// <summary>
    /// Rooted trees (true, docs/PROTOCOL.md §8.8): an author builds a tree with a beacon (a small control frame that
    /// floods once), every node keeps a parent and children per tree, and each message rides the tree whose root is
    /// nearest its author, so concurrent messages of many authors never cut each other's tree. False: only the shared
    /// and per-author trees of §8.1.
    /// </summary>
    public bool RootedTrees { get; init; } = true;

    /// <summary>
    /// An author farther than this many links from the root of every tree it knows starts a tree of its own when it
    /// publishes (2). Smaller: more trees (one beacon flood each) and paths closer to the flood's.
    /// </summary>
    public int RootRadius { get; init; } = 2;

    /// <summary>An author that has published this many messages starts a tree of its own, rooted at itself (3).</summary>
    public int EarnTreeAfter { get; init; } = 3;

    /// <summary>
    /// Most rooted trees a node keeps (128): it ignores the beacons of further roots (their messages reach it by
    /// announcement and graft). A node starts a tree only while it knows fewer than half this many, so trees started at
    /// the same moment in different places still fit everywhere (a 1,000-node graph settles at 60-80).
    /// </summary>
    public int MaxRootedTrees { get; init; } = 128;

    /// <summary>How long a node keeps pushing a tree's messages to neighbours that choose it as parent late (1 s).</summary>
    public TimeSpan TreeHoldTime { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Messages of a tree in a row whose first copy came by repair before the parent is replaced (2).</summary>
    public int ParentMissesBeforeSwitch { get; init; } = 2;

    /// <summary>Hop improvement an announcement must offer before the tree is changed (1 per author, 7 shared).</summary>
    public int OptimisationThreshold => AuthorTrees ? 1 : 7;
}
