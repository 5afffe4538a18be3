namespace SecureGossip.Protocol.Core;

/// <summary>
/// One rooted tree as one node sees it (docs/PROTOCOL.md §8.8): its parent toward the root, the children that chose
/// it, the neighbours it offered the tree to and that have not answered yet, and the depth each neighbour advertised.
/// A message riding the tree is pushed to the parent and the children only; a duplicate never prunes either.
/// </summary>
internal sealed class RootedTree(int root, int depth)
{
    private const int MaxHeld = 256;

    private readonly Dictionary<int, int> _neighbourDepth = [];
    private PlumtreeGraft? _graftFrame;
    private PlumtreePrune? _pruneFrame;
    private readonly List<(MessageId Id, TimeSpan At)> _held = [];

    /// <summary>The root's author number.</summary>
    public int Root { get; } = root;

    /// <summary>
    /// Links from the root along the tree (0 at the root). It only ever decreases (a neighbour advertising a shorter
    /// path becomes the parent), and a parent is always a neighbour of smaller depth, so parent links never form a
    /// cycle and the tree becomes breadth-first.
    /// </summary>
    public int Depth { get; set; } = depth;

    /// <summary>The link toward the root (-1: this node is the root, or its parent is gone and not yet replaced).</summary>
    public int Parent { get; set; } = -1;

    /// <summary>Neighbours that chose this node as their parent.</summary>
    public LinkSet Children { get; } = new();

    /// <summary>Neighbours the beacon was sent to that have neither chosen this node nor sent their own beacon.</summary>
    public LinkSet Pending { get; } = new();

    /// <summary>Messages of the tree whose first copy came by repair (a pull) in a row: the parent is failing them.</summary>
    public int Misses { get; set; }

    /// <summary>Whether the tree has a way toward its root (this node is the root, or it has a parent).</summary>
    public bool Connected(int self) => Root == self || Parent >= 0;

    /// <summary>Whether <paramref name="slot"/> is a link of the tree here (parent or child): pushed to, never pruned.</summary>
    public bool IsTreeLink(int slot) => slot == Parent || Children.Contains(slot);

    public void SetNeighbourDepth(int slot, int depth) => _neighbourDepth[slot] = depth;

    /// <summary>Whether <paramref name="slot"/> advertised a depth this node's beacon cannot improve (at most its depth + 1).</summary>
    public bool NeighbourAtMost(int slot, int depth) => _neighbourDepth.TryGetValue(slot, out int d) && d <= depth;

    /// <summary>The up neighbour of smallest advertised depth below this node's, preferring <paramref name="preferred"/>
    /// when it qualifies; -1 if none does.</summary>
    public int BestParent(int preferred, Func<int, bool> isUp)
    {
        if (preferred >= 0 && _neighbourDepth.TryGetValue(preferred, out int d) && d < Depth && isUp(preferred))
        {
            return preferred;
        }

        int best = -1;
        int bestDepth = Depth;
        foreach ((int slot, int depth) in _neighbourDepth)
        {
            if (depth < bestDepth && isUp(slot) && !Children.Contains(slot))
            {
                best = slot;
                bestDepth = depth;
            }
        }

        return best;
    }

    /// <summary>The tree's rooted graft ("I choose you as my parent"), one frame for every time it is sent (frames are immutable).</summary>
    public PlumtreeGraft GraftFrame => _graftFrame ??= new PlumtreeGraft(null, Root) { Rooted = true };

    /// <summary>The tree's rooted prune ("stop pushing this tree to me"), one frame for every time it is sent.</summary>
    public PlumtreePrune PruneFrame => _pruneFrame ??= new PlumtreePrune(Root, Optimisation: false) { Rooted = true };

    /// <summary>Remembers a message some neighbours were only announced, to push it to each that then chooses this node
    /// (the first messages of a new tree follow its beacon closely, and a node that moves here does not wait to graft
    /// what its old parent no longer pushes).</summary>
    public void Hold(MessageId id, TimeSpan now, TimeSpan holdFor)
    {
        Trim(now, holdFor);
        if (_held.Count >= MaxHeld)
        {
            _held.RemoveRange(0, MaxHeld / 4); // the newest matter most to a late child; older ones it can graft
        }

        _held.Add((id, now));
    }

    /// <summary>The messages still held for a neighbour that just chose this node.</summary>
    public ReadOnlySpan<(MessageId Id, TimeSpan At)> Held(TimeSpan now, TimeSpan holdFor)
    {
        Trim(now, holdFor);
        return System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_held); // read before the next Hold or Trim
    }

    /// <summary>A link went down: it is no longer parent, child, pending or a candidate.</summary>
    public void RemoveLink(int slot)
    {
        Children.Remove(slot);
        Pending.Remove(slot);
        _neighbourDepth.Remove(slot);
        if (Parent == slot)
        {
            Parent = -1;
        }
    }

    private void Trim(TimeSpan now, TimeSpan holdFor)
    {
        int old = 0;
        while (old < _held.Count && now - _held[old].At > holdFor)
        {
            old++;
        }

        _held.RemoveRange(0, old);
    }
}

/// <summary>The rooted trees a node knows, by root (docs/PROTOCOL.md §8.8), at most <see cref="PlumtreeOptions.MaxRootedTrees"/>.</summary>
internal sealed class RootedTrees(PlumtreeOptions options)
{
    private readonly Dictionary<int, RootedTree> _trees = [];

    public int Count => _trees.Count;

    public IEnumerable<RootedTree> All => _trees.Values;

    public bool IsFull => _trees.Count >= options.MaxRootedTrees;

    public RootedTree? Get(int root) => _trees.GetValueOrDefault(root);

    public RootedTree Add(int root, int depth) => _trees[root] = new RootedTree(root, depth);

    /// <summary>Forgets the tree of <paramref name="root"/> (this node left it: no way toward its root).</summary>
    public void Remove(int root) => _trees.Remove(root);

    /// <summary>
    /// How far a root may be before this node starts a tree of its own: <paramref name="radius"/>, or a quarter of its
    /// largest depth in any tree it knows if that is more. In a graph of long paths (a line, a ring) a new root a few
    /// links away shortens nothing that matters and costs a beacon on every link, so trees stay few there; in an
    /// expander (depths of 6-9 on 1,000 nodes) the radius stays as set.
    /// </summary>
    public int Radius(int self, int radius)
    {
        int deepest = 0;
        foreach (RootedTree tree in _trees.Values)
        {
            if (tree.Connected(self) && tree.Depth > deepest)
            {
                deepest = tree.Depth;
            }
        }

        return Math.Max(radius, deepest / 4);
    }

    /// <summary>The connected tree this node is nearest the root of (its own first), or null.</summary>
    public RootedTree? Nearest(int self)
    {
        RootedTree? best = null;
        foreach (RootedTree tree in _trees.Values)
        {
            if (tree.Connected(self) && (best is null || tree.Depth < best.Depth || (tree.Depth == best.Depth && tree.Root < best.Root)))
            {
                best = tree;
            }
        }

        return best;
    }

    public void RemoveLink(int slot)
    {
        foreach (RootedTree tree in _trees.Values)
        {
            tree.RemoveLink(slot);
        }
    }
}
