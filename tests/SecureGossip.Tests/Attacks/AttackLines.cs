using System.Security.Cryptography;
using System.Text;
using SecureGossip.Crypto;

namespace SecureGossip.Tests.Attacks;

/// <summary>Wire lines for the attack tests: the secure-gossip 0.3.1 envelope, signed or forged, and garbage.</summary>
internal static class AttackLines
{
    /// <summary>
    /// A genuine v1 line: <paramref name="keys"/> signs <c>JSON.stringify({"n":n}, null, 2)</c>, as ssb-keys does, and
    /// the envelope carries <paramref name="seqJson"/> verbatim (a number, or a string as a lax relay might pass on).
    /// </summary>
    public static byte[] Signed(GossipKeys keys, long n, string seqJson)
    {
        string signature = keys.Sign(Encoding.UTF8.GetBytes($"{{\n  \"n\": {n}\n}}"));
        return Encoding.UTF8.GetBytes($"{{\"data\":{{\"n\":{n},\"signature\":\"{signature}\"}},\"public\":\"{keys.Public}\",\"seq\":{seqJson}}}\n");
    }

    /// <summary>A well-formed line from a real key whose signature is 64 random bytes: it costs the node a verification.</summary>
    public static byte[] ForgedSignature(string publicKey, long n)
    {
        string signature = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)) + ".sig.ed25519";
        return Encoding.UTF8.GetBytes($"{{\"data\":{{\"n\":{n},\"signature\":\"{signature}\"}},\"public\":\"{publicKey}\",\"seq\":{n}}}\n");
    }

    /// <summary><paramref name="count"/> lines that are not JSON at all.</summary>
    public static byte[] NotJson(int count) =>
        Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("this is not json {{{ ]]] \"\n", count)));

    /// <summary>A line of <paramref name="length"/> bytes (newline excluded) of a JSON string that never ends in time.</summary>
    public static byte[] Oversize(int length)
    {
        byte[] line = new byte[length + 1];
        line.AsSpan().Fill((byte)'x');
        line[0] = (byte)'"';
        line[^1] = (byte)'\n';
        return line;
    }

    /// <summary>A mix of v2 frames that do not decode: unknown types, wrong member types, broken JSON.</summary>
    public static byte[] BadFrames(int count)
    {
        string[] kinds =
        [
            "{\"sg2\":\"zzz\",\"x\":1}",
            "{\"sg2\":\"ihave\",\"i\":\"not an array\"}",
            "{\"sg2\":\"want\",\"w\":[[1,2,3]]}",
            "{\"sg2\":\"sync\",\"s\":[\"unterminated",
            "{\"sg2\":7}",
        ];
        var text = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            text.Append(kinds[i % kinds.Length]).Append('\n');
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>The concatenation of <paramref name="lines"/>.</summary>
    public static byte[] Join(IEnumerable<byte[]> lines) => [.. lines.SelectMany(l => l)];
}
