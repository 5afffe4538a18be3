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
