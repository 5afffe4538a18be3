using SecureGossip.Protocol.Core;
using SecureGossip.Protocol.Flood;

namespace SecureGossip.Engine;

/// <summary>
/// One node's gossip state, free of IO, threads and clocks (as iroh-gossip's <c>proto</c> state): fed with events
/// (a link up or down, a message or control frame in, a message verified, a publish, a timer) it decides what is
/// accepted, and its protocol modules decide what goes where — the v1 flood on v1 links, the Plumtree core on v2
/// links. The real node's actor and the simulator drive this very class through the same entry points
/// (<see cref="Admit"/> then <see cref="Commit"/>), with the same message identity (digests), so a simulated
/// figure is a figure of the code on the wire.
/// </summary>
/// <remarks>
/// <para>Calls never overlap; actions go to the <see cref="IGossipContext"/> given with each call.</para>
/// <para>A real node verifies on other threads between <see cref="Admit"/> and <see cref="Commit"/>, and commits in
/// arrival order; the simulator's verifier is an oracle, so its <see cref="FrameReceived"/> admits, counts one
/// verification and commits in one call.</para>
/// </remarks>
public sealed class GossipEngine : IGossipProtocol
{
    private readonly MessageMemory _memory;
    private readonly Dictionary<int, int> _versions = [];
    private readonly bool _byId;
    private SequenceTable _highest;

    /// <summary>Creates one node's engine.</summary>
    /// <param name="tree">The Plumtree core's options, or null for a node that speaks only v1.</param>
    /// <param name="flood">Whether accepted messages are flooded on v1 links (always, on a real node).</param>
    /// <param name="roundInterval">Flood rounds on the engine's own timer (the simulator); null when the driver calls <see cref="Round"/>.</param>
    /// <param name="deduplicateById">Accept each id once (v2, a store); otherwise the v1 seq rule alone decides, as secure-gossip 0.3.1 does.</param>
    /// <param name="maxRememberedIds">How many accepted ids are remembered (oldest forgotten first).</param>
    /// <param name="maxFloodLines">The most lines the flood keeps for its next round (<see cref="V1FloodProtocol.MaxStoredLines"/>).</param>
    /// <param name="maxFloodBytes">The most bytes of lines the flood keeps for its next round (<see cref="V1FloodProtocol.MaxStoredBytes"/>).</param>
    public GossipEngine(PlumtreeOptions? tree, bool flood, TimeSpan? roundInterval = null, bool deduplicateById = true, int maxRememberedIds = 1_000_000, int maxFloodLines = V1FloodProtocol.DefaultMaxStoredLines, long maxFloodBytes = V1FloodProtocol.DefaultMaxStoredBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRememberedIds, 1);
        _memory = new MessageMemory(maxRememberedIds);
        _byId = deduplicateById || tree is not null;
        Tree = tree is null ? null : new PlumtreeProtocol(tree with { SeenDigests = _memory });
        Flood = flood ? new V1FloodProtocol(roundInterval, maxFloodLines, maxFloodBytes) : null;
    }

    /// <summary>A simulated v1 node: the flood alone, a round every <paramref name="interval"/>, the seq rule.</summary>
    public static GossipEngine CreateV1(TimeSpan interval) => new(tree: null, flood: true, interval, deduplicateById: false);

    /// <summary>A simulated v2 node: the Plumtree core alone, accepting by id.</summary>
    public static GossipEngine CreateV2(PlumtreeOptions? options = null) => new(options ?? new PlumtreeOptions(), flood: false);

    /// <summary>The Plumtree core (v2 links), if this node speaks v2.</summary>
    public PlumtreeProtocol? Tree { get; }

    /// <summary>The v1 flood (v1 links), if this node floods.</summary>
    public V1FloodProtocol? Flood { get; }

    /// <summary>How many links are up, of any version.</summary>
    public int LinkCount => _versions.Count;

    /// <summary>Accepted ids remembered now.</summary>
    public int RememberedIds => _memory.Count;

    /// <inheritdoc/>
    public void Start(IGossipContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Tree?.Start(context);
        Flood?.Start(context);
    }

    /// <summary>
    /// A link is up, speaking <paramref name="version"/> (1 until a v2 hello; called again with 2 when it arrives).
    /// </summary>
    public void LinkUp(IGossipContext context, int link, int version)
    {
        ArgumentNullException.ThrowIfNull(context);
        bool v2 = version >= 2 && Tree is not null;
        if (_versions.TryGetValue(link, out int was))
        {
            if (was >= 2 || !v2)
            {
                return;
            }

            Flood?.NeighbourDown(link);
        }

        _versions[link] = v2 ? 2 : 1;
        if (v2)
        {
            Tree!.NeighbourUp(context, link);
        }
        else
        {
            Flood?.NeighbourUp(link);
        }
    }

    /// <summary>The version a link speaks (0: not up).</summary>
    public int VersionOf(int link) => _versions.GetValueOrDefault(link);

    /// <inheritdoc/>
    public void NeighbourUp(IGossipContext context, int neighbour) => LinkUp(context, neighbour, Tree is null ? 1 : 2);

    /// <inheritdoc/>
    public void NeighbourDown(IGossipContext context, int neighbour)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!_versions.Remove(neighbour, out int version))
        {
            return;
        }

        if (version >= 2)
        {
            Tree!.NeighbourDown(context, neighbour);
        }
        else
        {
            Flood?.NeighbourDown(neighbour);
        }
    }

    /// <inheritdoc/>
    public void Publish(IGossipContext context, MessageId message, int payloadBytes)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_byId)
        {
            _memory.Remember(message.Digest);
        }

        Tree?.Publish(context, message, payloadBytes);
        Flood?.Publish(new V1Line(message, payloadBytes, hops: 1));
    }

    /// <summary>The node published the message whose signed v1 <paramref name="line"/> is given.</summary>
    public void Publish(IGossipContext context, MessageId message, byte[] line)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(line);
        if (_byId)
        {
            _memory.Remember(message.Digest);
        }

        Tree?.Publish(context, message, line);
        Flood?.Publish(new V1Line(message, line));
    }

    /// <summary>
    /// A message arrived from <paramref name="link"/> (null: handed in from outside any link). Decides before any
    /// verification: own, duplicate (the modules hear of it: Plumtree prunes a duplicate on tree traffic), a copy of
    /// one being verified, or new — then the caller holds the claim on its id, verifies it, and calls <see cref="Commit"/>.
    /// </summary>
    public Admission Admit(IGossipContext context, int? link, in InboundMessage message) => AdmitCore(context, link, message, claim: true);

    /// <summary>
    /// <see cref="Admit"/>; without <paramref name="claim"/> (the simulator, which
    /// commits in the same call, so no other copy can be in verification meanwhile) no claim is taken.
    /// </summary>
    private Admission AdmitCore(IGossipContext context, int? link, in InboundMessage message, bool claim)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (message.Id.Author == context.Self)
        {
            Duplicate(context, link, message);
            return Admission.Own;
        }

        if (IsDuplicate(message))
        {
            Duplicate(context, link, message);
            return Admission.Duplicate;
        }

        return !claim || _memory.Claim(ClaimKey(message)) ? Admission.Verify : Admission.Wait;
    }

    /// <summary>
    /// What a copy in verification holds: its id, and under the v1 seq rule its id and seq — two lines with one
    /// signature and two seqs are two messages to secure-gossip 0.3.1 (a payload published twice), verified each.
    /// </summary>
    private UInt128 ClaimKey(in InboundMessage message) => _byId ? message.Id.Digest : SeqRuleKey(message.Id.Digest, message.Sequence);

    /// <summary>Under the v1 seq rule, the key of a message: its id and its seq in one value.</summary>
    internal static UInt128 SeqRuleKey(UInt128 digest, double seq) =>
        digest ^ new UInt128((ulong)BitConverter.DoubleToInt64Bits(seq), 0x9E3779B97F4A7C15UL);

    /// <summary>Whether a message already accepted makes <paramref name="message"/> a duplicate (same id, or under the v1 seq rule, a seq not above the author's highest).</summary>
    public bool IsDuplicate(in InboundMessage message)
    {
        if (_byId)
        {
            return _memory.IsSeen(message.Id.Digest);
        }

        // secure-gossip 0.3.1: `if (seq <= highest) drop`, on JSON numbers; NaN compares false, so a NaN highest
        // never drops, and a NaN seq is dropped only once a highest exists (!(highest < NaN)).
        return _highest.TryGet(message.Id.Author, out double highest) && !(highest < message.Sequence);
    }

    /// <summary>
    /// Commits a message admitted earlier, in arrival order, once its signature has been checked
    /// (<paramref name="valid"/>): accepts it unless a copy was accepted meanwhile. An accepted message is remembered
    /// and handed to the modules, which forward it; the caller delivers it.
    /// </summary>
    /// <param name="context">The context for this call.</param>
    /// <param name="link">The link it came from, or null.</param>
    /// <param name="message">The message.</param>
    /// <param name="valid">Whether its signature verified.</param>
    /// <param name="claimed">Whether <see cref="Admit"/> returned <see cref="Admission.Verify"/> for this copy (it releases the claim).</param>
    public Outcome Commit(IGossipContext context, int? link, in InboundMessage message, bool valid, bool claimed)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (claimed)
        {
            _memory.Release(ClaimKey(message));
        }

        if (!valid)
        {
            return Outcome.Invalid;
        }

        if (IsDuplicate(message))
        {
            Duplicate(context, link, message);
            return Outcome.Duplicate;
        }

        Accept(context, link, message);
        return Outcome.Accepted;
    }

    /// <summary>Accepts a message known valid and new: remembered, handed to the modules (which forward it).</summary>
    private void Accept(IGossipContext context, int? link, in InboundMessage message)
    {
        if (_byId)
        {
            _memory.Remember(message.Id.Digest);
        }
        else
        {
            _highest.SetMax(message.Id.Author, message.Sequence);
        }

        int hops = message.Frame switch
        {
            PlumtreeMessage m => m.Hops,
            V1Line l => l.Hops,
            _ => 0,
        };

        if (Tree is not null)
        {
            if (link is int from && VersionOf(from) >= 2 && message.Frame is PlumtreeMessage tree)
            {
                // The node's actor hands the frame over with its id already set (one copy fewer a message).
                bool sameId = tree.Message.Author == message.Id.Author && tree.Message.Sequence == message.Id.Sequence && tree.Message.Digest == message.Id.Digest;
                Tree.AcceptVerified(context, from, sameId ? tree : tree with { Message = message.Id });
            }
            else
            {
                byte[]? line = (message.Frame as V1Line)?.Line ?? (message.Frame as PlumtreeMessage)?.Line;
                Tree.AcceptVerified(context, null, new PlumtreeMessage(message.Id, line?.Length ?? message.Frame?.SizeBytes ?? 0, PlumtreeSendKind.Sync, hops, false) { Line = line });
            }
        }
        else
        {
            context.Deliver(message.Id, hops); // with a tree, the core reports the delivery as it accepts
        }

        // A round sends the flood's lines to v1 neighbours only, and empties it whenever the node has a link: with links
        // and none of them v1 (a v2 node among v2 nodes), nothing would ever read a line kept here. A node alone keeps
        // them for its first link, and a new link counts as v1 until its hello.
        if (Flood is not null && (Flood.NeighbourCount > 0 || _versions.Count == 0))
        {
            Flood.Accepted(message.Frame switch
            {
                V1Line l => l,
                PlumtreeMessage { Line: { } line } => new V1Line(message.Id, line),
                _ => new V1Line(message.Id, message.Frame?.SizeBytes ?? 0, hops),
            });
        }
    }

    /// <summary>
    /// The simulator's receive path: a message is admitted, verified by an oracle (one verification counted) and
    /// committed at once; a control frame goes to the Plumtree core when the link speaks v2.
    /// </summary>
    public void FrameReceived(IGossipContext context, int fromNeighbour, IGossipFrame frame)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(frame);
        if (frame is PlumtreeMessage or V1Line)
        {
            var payload = (IGossipPayloadFrame)frame;
            var message = new InboundMessage(payload.Message, payload.Message.Sequence, payload);
            if (AdmitCore(context, fromNeighbour, message, claim: false) == Admission.Verify)
            {
                // Commit's steps, where nothing can have changed since the admission: no claim, valid, still new.
                context.CountVerify();
                Accept(context, fromNeighbour, message);
            }

            return;
        }

        Control(context, fromNeighbour, frame);
    }

    /// <summary>A control frame (not a message) from a link that speaks v2: the Plumtree core's business.</summary>
    public void Control(IGossipContext context, int link, IGossipFrame frame)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Tree is not null && VersionOf(link) >= 2 && frame is not PlumtreeMessage)
        {
            Tree.FrameReceived(context, link, frame);
        }
    }

    /// <inheritdoc/>
    public void Timer(IGossipContext context, long timerId)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (timerId == V1FloodProtocol.RoundTimer)
        {
            Flood?.Timer(context, _versions.Count);
        }
        else
        {
            Tree?.Timer(context, timerId);
        }
    }

    /// <summary>A flood round now (a real node's <see cref="GossipNode.Gossip"/>).</summary>
    public void Round(IGossipContext context) => Flood?.Round(context, _versions.Count);

    /// <summary>Forgets the v1 seq-rule state of an author (the driver forgot the author to bound its memory).</summary>
    public void ForgetAuthor(int author) => _highest.Remove(author);

    /// <summary>Remembers an id as accepted without a message (a store's seen ids at start): its copies are duplicates.</summary>
    public void MarkSeen(UInt128 digest) => _memory.Remember(digest);

    /// <summary>A duplicate copy: on a v2 link the Plumtree core learns the sender has it (and prunes tree traffic).</summary>
    private void Duplicate(IGossipContext context, int? link, in InboundMessage message)
    {
        if (Tree is not null && link is int from && VersionOf(from) >= 2 && message.Frame is PlumtreeMessage copy)
        {
            Tree.FrameReceived(context, from, copy with { Message = message.Id });
        }
    }
}
