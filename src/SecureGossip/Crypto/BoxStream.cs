using System.Buffers;
using System.Buffers.Binary;

namespace SecureGossip.Crypto;

/// <summary>
/// Box-stream (the npm <c>pull-box-stream</c> framing that follows a secret handshake), IO-free. Every chunk of at
/// most <see cref="MaxChunk"/> bytes travels as a 34-byte boxed header (the body's length and its authentication tag)
/// and the body encrypted on its own; the 24-byte nonce counts up by one per box, so a box that is replayed, dropped,
/// reordered or changed fails to open. A boxed header of zeros says goodbye: the stream ended on purpose, and a stream
/// that stops without it was cut.
/// </summary>
internal static class BoxStream
{
    /// <summary>The most plaintext bytes in one chunk.</summary>
    public const int MaxChunk = 4096;

    /// <summary>Bytes of a boxed header: a tag and 18 bytes (length, body tag).</summary>
    public const int HeaderLength = Sodium.MacBytes + 2 + Sodium.MacBytes;

    /// <summary>Adds one to a big-endian nonce.</summary>
    public static void Increment(Span<byte> nonce)
    {
        for (int i = nonce.Length - 1; i >= 0; i--)
        {
            if (++nonce[i] != 0)
            {
                return;
            }
        }
    }

    /// <summary>Seals what one side sends.</summary>
    public sealed class Sealer(byte[] key, byte[] nonce)
    {
        private readonly byte[] _key = key;
        private readonly byte[] _nonce = (byte[])nonce.Clone();

        /// <summary>Seals <paramref name="chunk"/> (at most <see cref="MaxChunk"/> bytes, not empty) into <paramref name="output"/>.</summary>
        public void Seal(ReadOnlySpan<byte> chunk, IBufferWriter<byte> output)
        {
            if (chunk.IsEmpty || chunk.Length > MaxChunk)
            {
                throw new ArgumentOutOfRangeException(nameof(chunk), chunk.Length, $"A box-stream chunk holds 1 to {MaxChunk} bytes.");
            }

            byte[] bodyNonce = (byte[])_nonce.Clone();
            Increment(bodyNonce);
            var body = global::Sodium.SecretBox.CreateDetached(chunk.ToArray(), bodyNonce, _key);
            byte[] header = new byte[2 + Sodium.MacBytes];
            BinaryPrimitives.WriteUInt16BigEndian(header, (ushort)chunk.Length);
            body.Mac.CopyTo(header, 2);
            output.Write(Sodium.SecretBox(header, _nonce, _key));
            output.Write(body.CipherText);
            Increment(_nonce);
            Increment(_nonce);
        }

        /// <summary>Writes the goodbye: the stream ends here on purpose.</summary>
        public void Goodbye(IBufferWriter<byte> output) => output.Write(Sodium.SecretBox(new byte[2 + Sodium.MacBytes], _nonce, _key));
    }

    /// <summary>Opens what the other side sends, chunk by chunk.</summary>
    public sealed class Opener(byte[] key, byte[] nonce)
    {
        private readonly byte[] _key = key;
        private readonly byte[] _nonce = (byte[])nonce.Clone();
        private int _bodyLength = -1;
        private byte[]? _bodyMac;

        /// <summary>The goodbye has been read: nothing follows.</summary>
        public bool Ended { get; private set; }

        /// <summary>
        /// Opens the next chunk at the start of <paramref name="input"/> into <paramref name="output"/> and moves
        /// <paramref name="input"/> past it; false when more bytes are needed (or the goodbye was read).
        /// </summary>
        /// <exception cref="BoxStreamException">A box did not open: the bytes were changed, replayed, dropped or reordered, or the key is wrong.</exception>
        public bool TryOpen(ref ReadOnlySequence<byte> input, IBufferWriter<byte> output)
        {
            if (Ended)
            {
                return false;
            }

            if (_bodyLength < 0)
            {
                if (input.Length < HeaderLength)
                {
                    return false;
                }

                byte[]? header = Sodium.SecretBoxOpen(input.Slice(0, HeaderLength).ToArray(), _nonce, _key);
                if (header is null)
                {
                    throw new BoxStreamException("a box-stream header did not open (changed, replayed, reordered or cut bytes)");
                }

                input = input.Slice(HeaderLength);
                if (header.AsSpan().IndexOfAnyExcept((byte)0) < 0)
                {
                    Ended = true; // goodbye
                    return false;
                }

                int length = BinaryPrimitives.ReadUInt16BigEndian(header);
                if (length is 0 or > MaxChunk)
                {
                    throw new BoxStreamException($"a box-stream header announced {length} bytes (1 to {MaxChunk} allowed)");
                }

                _bodyLength = length;
                _bodyMac = header[2..];
                Increment(_nonce);
            }

            if (input.Length < _bodyLength)
            {
                return false;
            }

            byte[] plain;
            try
            {
                plain = global::Sodium.SecretBox.OpenDetached(input.Slice(0, _bodyLength).ToArray(), _bodyMac!, _nonce, _key);
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                throw new BoxStreamException("a box-stream body did not open (changed bytes)");
            }

            input = input.Slice(_bodyLength);
            output.Write(plain);
            Increment(_nonce);
            _bodyLength = -1;
            _bodyMac = null;
            return true;
        }
    }
}

/// <summary>A box-stream box did not open: the bytes on the link were changed, replayed, reordered or cut.</summary>
public sealed class BoxStreamException : Exception
{
    /// <summary>Creates the exception with the reason.</summary>
    public BoxStreamException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with no reason.</summary>
    public BoxStreamException()
    {
    }

    /// <summary>Creates the exception with the reason and its cause.</summary>
    public BoxStreamException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
