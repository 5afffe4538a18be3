namespace SecureGossip.Protocol.Flood;

/// <summary>
/// The highest accepted seq per author, as two sorted arrays searched by bisection: about 12 bytes an author
/// instead of a dictionary entry, which matters at 10,000 simulated nodes. Seqs are JSON numbers (doubles), compared
/// as secure-gossip 0.3.1 compares them.
/// </summary>
internal struct SequenceTable
{
    private int[]? _authors;
    private double[]? _sequences;
    private int _count;

    public readonly int Count => _count;

    public readonly bool TryGet(int author, out double sequence)
    {
        int i = _authors is null ? -1 : Array.BinarySearch(_authors, 0, _count, author);
        sequence = i >= 0 ? _sequences![i] : 0;
        return i >= 0;
    }

    public void Set(int author, double sequence)
    {
        int i = _authors is null ? ~0 : Array.BinarySearch(_authors, 0, _count, author);
        if (i >= 0)
        {
            _sequences![i] = sequence;
            return;
        }

        i = ~i;
        if (_authors is null || _count == _authors.Length)
        {
            int capacity = Math.Max(4, _count * 2);
            Array.Resize(ref _authors, capacity);
            Array.Resize(ref _sequences, capacity);
        }

        Array.Copy(_authors, i, _authors, i + 1, _count - i);
        Array.Copy(_sequences!, i, _sequences!, i + 1, _count - i);
        _authors[i] = author;
        _sequences![i] = sequence;
        _count++;
    }

    /// <summary>Raises an author's highest seq to <paramref name="sequence"/> (as <c>Math.Max</c>: a NaN sticks), or sets it if it has none.</summary>
    public void SetMax(int author, double sequence)
    {
        int i = _authors is null ? -1 : Array.BinarySearch(_authors, 0, _count, author);
        if (i >= 0)
        {
            _sequences![i] = Math.Max(_sequences[i], sequence);
            return;
        }

        Set(author, sequence);
    }

    public void Remove(int author)
    {
        int i = _authors is null ? -1 : Array.BinarySearch(_authors, 0, _count, author);
        if (i >= 0)
        {
            Array.Copy(_authors!, i + 1, _authors!, i, _count - i - 1);
            Array.Copy(_sequences!, i + 1, _sequences!, i, _count - i - 1);
            _count--;
        }
    }
}
