using System.Text;
using SecureGossip.Protocol;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Tests.Protocol.Wire;

/// <summary>One frame of each v2 type with the exact text it has on the wire (docs/PROTOCOL.md §4.2), written by hand.</summary>
internal static class WireFrames
{
    /// <summary>An author key whose base64 holds '+' and '/', which frames write as they are (no <c>\u002B</c>).</summary>
    public static readonly string Key = Convert.ToBase64String(Enumerable.Repeat((byte)0xFB, 32).ToArray()) + ".ed25519";

    public static readonly string Key2 = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()) + ".ed25519";

    // The digests 1 and 2, little-endian.
    public const string Id1 = "AQAAAAAAAAAAAAAAAAAAAA==";
    public const string Id2 = "AgAAAAAAAAAAAAAAAAAAAA==";

    public const string Line = "{\"data\":{\"text\":\"hi\"},\"public\":\"k\",\"seq\":1}";

    /// <summary>The frames, each with its text; <paramref name="authors"/> gets <see cref="Key"/> and <see cref="Key2"/> interned.</summary>
    public static (IGossipFrame Frame, string Text)[] All(V2Authors authors)
    {
        int a = authors.Intern(Key);
        int b = authors.Intern(Key2);
        return
        [
            (new PlumtreeMessage(default, Line.Length, PlumtreeSendKind.Eager, 3, true) { Line = Encoding.UTF8.GetBytes(Line), AgeMs = 420 },
                "{\"sg2\":\"msg\",\"k\":\"e\",\"h\":3,\"age\":420,\"t\":1,\"m\":" + Line + "}"),
            (new PlumtreeIHave([MessageId.FromDigest(a, 1), MessageId.FromDigest(a, 2)], [1, 2]),
                "{\"sg2\":\"ihave\",\"i\":[[\"" + Id1 + "\",1],[\"" + Id2 + "\",2]]}"),
            (new PlumtreeGraft(MessageId.FromDigest(a, 1), a), "{\"sg2\":\"graft\",\"i\":\"" + Id1 + "\"}"),
            (new PlumtreeGraft(null, b), "{\"sg2\":\"graft\",\"a\":\"" + Key2 + "\"}"),
            (new PlumtreePrune(a, true), "{\"sg2\":\"prune\",\"a\":\"" + Key + "\",\"o\":1}"),
            (new PlumtreeSync(true, [new PlumtreeFrontierEntry(a, 4, [6, 9]), PlumtreeFrontierEntry.ForDigests(b, [2])]) { End = false },
                "{\"sg2\":\"sync\",\"full\":1,\"s\":[[\"" + Key + "\",4,[6,9]]],\"l\":[[\"" + Key2 + "\",[\"" + Id2 + "\"]]]}"),
            (new PlumtreeWant([MessageId.FromDigest(a, 1), new MessageId(b, 3), new MessageId(b, 5)]),
                "{\"sg2\":\"want\",\"i\":[\"" + Id1 + "\"],\"s\":[[\"" + Key2 + "\",[3,5]]]}"),
        ];
    }
}
