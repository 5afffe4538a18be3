using System.Security.Cryptography;
using System.Text;
using SecureGossip.Crypto;

namespace SecureGossip.Tests.Fuzz;

/// <summary>
/// The fuzzer's world: fixed keys (derived from the seed, so every run is reproducible), messages they signed over
/// the model's canonical form, and the index the forgery oracle looks delivered messages up in.
/// </summary>
internal sealed class FuzzCorpus : IDisposable
{
    /// <summary>Authors 0 and 1 sign plain payloads, author 2 signs its seq (docs/PROTOCOL.md §3.2), author 3 is the receiver.</summary>
    public const int Authors = 4;

    public const int Receiver = 3;

    private readonly Dictionary<(string Key, string Delivered), GenuineMessage> _byContent = [];

    public FuzzCorpus(int seed, int messagesPerAuthor)
    {
        var random = new Random(seed);
        for (int a = 0; a < Authors; a++)
        {
            byte[] keySeed = SHA256.HashData(Encoding.UTF8.GetBytes($"secure-gossip fuzz key {a}"));
            Keys.Add(GossipKeys.FromSeed(keySeed));
        }

        for (int a = 0; a < Authors; a++)
        {
            for (int i = 0; i < messagesPerAuthor; i++)
            {
                FuzzJson payload = FuzzValues.Object(random, depth: 3, count: random.Next(6));
                payload.Members.Insert(random.Next(payload.Members.Count + 1), FuzzJson.Member("nonce", FuzzJson.String($"{seed}/{a}/{i}")));
                Messages.Add(Sign(a, payload, seq: i, signSeq: a == 2));
            }
        }
    }

    public List<GossipKeys> Keys { get; } = [];

    public List<GenuineMessage> Messages { get; } = [];

    /// <summary>Messages a receiver other than <see cref="Receiver"/> may deliver.</summary>
    public IEnumerable<GenuineMessage> Foreign => Messages.Where(m => m.Author != Receiver);

    /// <summary>Signs <paramref name="payload"/> as the JS package's publish does (the seq, if signed, as the last member).</summary>
    public GenuineMessage Sign(int author, FuzzJson payload, long seq, bool signSeq)
    {
        if (signSeq)
        {
            payload.Members.Add(FuzzJson.Member("$sg", FuzzJson.Object(FuzzJson.Member("seq", FuzzJson.Integer(seq)))));
        }

        GossipKeys keys = Keys[author];
        byte[] signed = payload.Stringify(indented: true);
        string signatureText = keys.Sign(signed);
        byte[] signature = Convert.FromBase64String(signatureText[..signatureText.IndexOf('.', StringComparison.Ordinal)]);
        if (!GossipKeys.Verify(keys.PublicKey, signed, signature))
        {
            throw new InvalidOperationException("The test's own signature does not verify.");
        }

        var message = new GenuineMessage
        {
            Author = author,
            Key = keys.PublicKey.ToArray(),
            Payload = payload,
            Signed = signed,
            Delivered = signSeq ? payload.Stringify(indented: false, "$sg") : payload.Stringify(indented: false),
            Signature = signature,
            SignatureText = signatureText,
            PublicText = keys.Public,
            Seq = seq,
            SignedSeq = signSeq ? seq : null,
        };
        _byContent[(Convert.ToBase64String(message.Key), Encoding.UTF8.GetString(message.Delivered))] = message;
        return message;
    }

    /// <summary>
    /// The genuine message a delivery corresponds to: same author key (however the wire spelled it) and same
    /// payload bytes; <see langword="null"/> means the node delivered something no test key signed.
    /// </summary>
    public GenuineMessage? Find(string author, ReadOnlySpan<byte> payload)
    {
        byte[]? key = DecodeKey(author);
        return key is null ? null : _byContent.GetValueOrDefault((Convert.ToBase64String(key), Encoding.UTF8.GetString(payload)));
    }

    /// <summary>
    /// The test's own reading of an ssb key string (node's <c>Buffer.from(s, 'base64')</c> after ssb-keys drops
    /// the sigil and the tag): standard and URL-safe characters count, others are skipped, '=' ends the data.
    /// </summary>
    public static byte[]? DecodeKey(string text)
    {
        string body = text.StartsWith('@') || text.StartsWith('%') || text.StartsWith('&') ? text[1..] : text;
        int dot = body.IndexOf('.', StringComparison.Ordinal);
        body = dot >= 0 ? body[..dot] : body;
        var clean = new StringBuilder();
        foreach (char c in body)
        {
            if (c == '=')
            {
                break;
            }

            if (char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '-' or '_')
            {
                clean.Append(c switch { '-' => '+', '_' => '/', _ => c });
            }
        }

        // Whole 6-bit groups only; a trailing group of one character carries no full byte.
        int usable = clean.Length % 4 == 1 ? clean.Length - 1 : clean.Length;
        string padded = clean.ToString(0, usable).PadRight((usable + 3) / 4 * 4, '=');
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(padded);
        }
        catch (FormatException)
        {
            // Non-zero unused bits in the last group: node ignores them, .NET refuses; clear them and retry.
            return DecodeLenient(clean.ToString(0, usable));
        }

        return bytes.Length == 32 ? bytes : null;
    }

    private static byte[]? DecodeLenient(string clean)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        var bytes = new List<byte>();
        int accumulator = 0, bits = 0;
        foreach (char c in clean)
        {
            accumulator = (accumulator << 6) | Alphabet.IndexOf(c, StringComparison.Ordinal);
            bits += 6;
            if (bits >= 8)
            {
                bits -= 8;
                bytes.Add((byte)(accumulator >> bits));
                accumulator &= (1 << bits) - 1;
            }
        }

        return bytes.Count == 32 ? [.. bytes] : null;
    }

    public void Dispose()
    {
        foreach (GossipKeys keys in Keys)
        {
            keys.Dispose();
        }
    }
}
