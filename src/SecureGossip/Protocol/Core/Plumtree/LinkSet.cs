namespace SecureGossip.Protocol.Core;

/// <summary>A set of link slots as a growable bit set (most nodes need one word).</summary>
internal sealed class LinkSet
{
    private ulong[] _bits = new ulong[1];

    public bool Contains(int slot) => slot >> 6 < _bits.Length && (_bits[slot >> 6] & (1UL << slot)) != 0;

    public void Add(int slot)
    {
        if (slot >> 6 >= _bits.Length)
        {
            Array.Resize(ref _bits, (slot >> 6) + 1);
        }

        _bits[slot >> 6] |= 1UL << slot;
    }

    public void Remove(int slot)
    {
        if (slot >> 6 < _bits.Length)
        {
            _bits[slot >> 6] &= ~(1UL << slot);
        }
    }

    public LinkSet Clone() => new() { _bits = (ulong[])_bits.Clone() };
}

/// <summary>
/// A set of link slots held in one word while every slot is below 64 (no allocation: most nodes have fewer links), in a
/// <see cref="LinkSet"/> made on first need beyond. A mutable struct: keep it in a field and call it there.
/// </summary>
internal struct SlotBits
{
    private ulong _low;
    private LinkSet? _more;

    public readonly bool Contains(int slot) => slot < 64 ? (_low & (1UL << slot)) != 0 : _more?.Contains(slot) == true;

    public void Add(int slot)
    {
        if (slot < 64)
        {
            _low |= 1UL << slot;
        }
        else
        {
            (_more ??= new LinkSet()).Add(slot);
        }
    }

    public void Remove(int slot)
    {
        if (slot < 64)
        {
            _low &= ~(1UL << slot);
        }
        else
        {
            _more?.Remove(slot);
        }
    }

    public void Clear()
    {
        _low = 0;
        _more = null;
    }
}
