namespace SecureGossip.Protocol.Core;

/// <summary>
/// Which links one node pushes messages to eagerly (docs/PROTOCOL.md §7–§8): S, the shared tree of plain Plumtree,
/// and G(a), a tree per author, made (copied from S) once the author's traffic asks for one by a graft, a prune or a
/// shorter path. Every other link is lazy: a message is announced to it, not pushed.
/// </summary>
internal sealed class EagerTrees(PlumtreeOptions options)
{
    private readonly Dictionary<int, LinkSet> _trees = [];

    /// <summary>S: the eager links of every author without a tree of its own.</summary>
    public LinkSet Shared { get; } = new();

    /// <summary>The authors with a tree of their own.</summary>
    public Dictionary<int, LinkSet>.KeyCollection Authors => _trees.Keys;

    public bool HasAuthorTree(int author) => _trees.ContainsKey(author);

    /// <summary>The author's own tree, or null (the author uses <see cref="Shared"/>).</summary>
    public LinkSet? AuthorTree(int author) => _trees.GetValueOrDefault(author);

    /// <summary>G(a): the author's own tree if it has one (or <paramref name="create"/> asks for one, copied from S), else S.</summary>
    public LinkSet For(int author, bool create)
    {
        if (!options.AuthorTrees)
        {
            return Shared;
        }

        if (_trees.TryGetValue(author, out LinkSet? tree))
        {
            return tree;
        }

        if (!create)
        {
            return Shared;
        }

        _trees[author] = tree = Shared.Clone();
        return tree;
    }

    /// <summary>Drops the author's own tree (it is rebuilt from S if its traffic asks again).</summary>
    public void Forget(int author) => _trees.Remove(author);

    /// <summary>A link went down: it is in no tree (it starts eager again when it comes back).</summary>
    public void RemoveLink(int slot)
    {
        Shared.Remove(slot);
        foreach (LinkSet tree in _trees.Values)
        {
            tree.Remove(slot);
        }
    }
}
