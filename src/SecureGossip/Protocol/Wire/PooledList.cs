using System.Buffers;
using System.Runtime.CompilerServices;

namespace SecureGossip.Protocol;

/// <summary>
/// A list over arrays rented from <see cref="ArrayPool{T}"/>, for the frame readers: a frame's entries are gathered
/// here and copied once into the exact-size array the frame keeps, instead of growing a <see cref="List{T}"/> through
/// arrays that are garbage as soon as the frame is read.
/// </summary>
/// <remarks>A mutable struct: keep it in one local, pass it by <see langword="ref"/>, and <see cref="Dispose"/> it in a <see langword="finally"/>.</remarks>
internal struct PooledList<T> : IDisposable
{
    private T[]? _items;

    /// <summary>A list whose first array holds at least <paramref name="capacity"/> items, so a list of known size never grows.</summary>
    public PooledList(int capacity)
    {
        _items = capacity > 0 ? ArrayPool<T>.Shared.Rent(capacity) : null;
    }

    /// <summary>How many items were added since the last <see cref="Clear"/>.</summary>
    public int Count { readonly get; private set; }

    /// <summary>Appends <paramref name="item"/>.</summary>
    public void Add(T item)
    {
        if (_items is null || Count == _items.Length)
        {
            Grow();
        }

        _items![Count++] = item;
    }

    /// <summary>Forgets the items, keeping the array for the next ones.</summary>
    public void Clear()
    {
        if (_items is not null && RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            Array.Clear(_items, 0, Count);
        }

        Count = 0;
    }

    /// <summary>The items, in a new array of exactly <see cref="Count"/>.</summary>
    public readonly T[] ToArray() => Count == 0 ? [] : _items.AsSpan(0, Count).ToArray();

    /// <summary>Returns the array to the pool.</summary>
    public void Dispose()
    {
        T[]? items = _items;
        _items = null;
        if (items is not null)
        {
            ArrayPool<T>.Shared.Return(items, clearArray: RuntimeHelpers.IsReferenceOrContainsReferences<T>());
        }

        Count = 0;
    }

    private void Grow()
    {
        T[] next = ArrayPool<T>.Shared.Rent(_items is null ? 16 : _items.Length * 2);
        if (_items is not null)
        {
            _items.AsSpan(0, Count).CopyTo(next);
            ArrayPool<T>.Shared.Return(_items, clearArray: RuntimeHelpers.IsReferenceOrContainsReferences<T>());
        }

        _items = next;
    }
}
