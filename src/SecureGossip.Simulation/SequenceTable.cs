namespace SecureGossip.Simulation;

/// <summary>
/// The highest accepted seq per author, as two sorted arrays searched by bisection: about 12 bytes an author
/// instead of a dictionary entry, which matters at 10,000 nodes.
/// </summary>
internal struct SequenceTable
{
    private int[]? _authors;
    private long[]? _sequences;
    private int _count;

    public readonly int Count => _count;

    public readonly bool TryGet(int author, out long sequence)
    {
        int i = _authors is null ? -1 : Array.BinarySearch(_authors, 0, _count, author);
        sequence = i >= 0 ? _sequences![i] : 0;
        return i >= 0;
    }

    public void Set(int author, long sequence)
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
}
