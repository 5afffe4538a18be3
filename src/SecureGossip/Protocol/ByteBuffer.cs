using System.Buffers;

namespace SecureGossip.Protocol;

/// <summary>
/// A growable byte buffer over pooled arrays that, unlike <see cref="ArrayBufferWriter{T}"/>, can be
/// truncated back to an earlier length: the canonicalizer writes members optimistically and rewinds an
/// object in the rare case that V8 would order its keys differently.
/// </summary>
internal sealed class ByteBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;

    public ByteBuffer(int initialCapacity = 256)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);
    }

    public int Length { get; private set; }

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, Length);

    public void Clear() => Length = 0;

    public void Truncate(int length)
    {
        System.Diagnostics.Debug.Assert(length >= 0 && length <= Length);
        Length = length;
    }

    public void Advance(int count) => Length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(Length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(Length);
    }

    public void Write(byte value)
    {
        Ensure(1);
        _buffer[Length++] = value;
    }

    public void Write(ReadOnlySpan<byte> value)
    {
        Ensure(value.Length);
        value.CopyTo(_buffer.AsSpan(Length));
        Length += value.Length;
    }

    public void WriteRepeated(byte value, int count)
    {
        Ensure(count);
        _buffer.AsSpan(Length, count).Fill(value);
        Length += count;
    }

    public byte[] ToArray() => WrittenSpan.ToArray();

    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        Length = 0;
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Ensure(int sizeHint)
    {
        if (sizeHint < 1)
        {
            sizeHint = 1;
        }

        if (_buffer.Length - Length >= sizeHint)
        {
            return;
        }

        int newSize = Math.Max(_buffer.Length * 2, Length + sizeHint);
        byte[] next = ArrayPool<byte>.Shared.Rent(newSize);
        _buffer.AsSpan(0, Length).CopyTo(next);
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = next;
    }
}
