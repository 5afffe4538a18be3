namespace SecureGossip.Protocol.Core;

/// <summary>The seqs seen of one author: every seq below <see cref="Floor"/>, and those in the set above it.</summary>
internal sealed class SeenSeqs
{
    private readonly HashSet<long> _above = [];

    public long Floor { get; private set; }

    public bool Contains(long seq) => seq < Floor || _above.Contains(seq);

    public void Add(long seq)
    {
        if (seq < Floor)
        {
            return;
        }

        _above.Add(seq);
        while (_above.Remove(Floor))
        {
            Floor++;
        }
    }

    public PlumtreeFrontierEntry ToEntry(int author) => new(author, Floor, [.. _above.Order()]);
}
