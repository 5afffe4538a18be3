using System.Text;
using SecureGossip.Crypto;
using SecureGossip.Protocol;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Tests.Protocol;

/// <summary>The v2 frame codec (docs/PROTOCOL.md §4.2) and author interning.</summary>
public sealed class V2FramesTests
{
    private const int Depth = 64;

    // Two fixed keys for frames written by hand ("KEY" and "KEY2" in the texts below).
    private static readonly string s_key = KeyFromSeed(1);
    private static readonly string s_key2 = KeyFromSeed(2);

    // The digest 1 (little-endian: 01 then 15 zero bytes), and a second one.
    private const string Id1 = "AQAAAAAAAAAAAAAAAAAAAA==";
    private const string Id2 = "AgAAAAAAAAAAAAAAAAAAAA==";

    private static readonly byte[] s_line = Encoding.UTF8.GetBytes(
        "{\"data\":{\"text\":\"hi\",\"signature\":\"c2ln.sig.ed25519\"},\"public\":\"" + KeyFromSeed(3) + "\",\"seq\":1}");

    // ---- Round trips ----

    [Theory]
    [InlineData(PlumtreeSendKind.Eager, 0, 0L, false)]
    [InlineData(PlumtreeSendKind.Eager, 3, 420L, true)]
    [InlineData(PlumtreeSendKind.Graft, 1, 0L, false)]
    [InlineData(PlumtreeSendKind.Sync, 65_535, 2_147_483_647L, false)]
    [InlineData(PlumtreeSendKind.Sync, 0, 5L, true)]
    public void Msg_round_trips(PlumtreeSendKind kind, int hops, long age, bool authorTree)
    {
        var authors = new V2Authors();
        var sent = new PlumtreeMessage(default, s_line.Length, kind, hops, authorTree) { Line = s_line, AgeMs = age };

        var received = Assert.IsType<PlumtreeMessage>(RoundTrip(sent, authors));

        Assert.Equal(default, received.Message);
        Assert.Equal(s_line, received.Line);
        Assert.Equal(s_line.Length, received.PayloadBytes);
        Assert.Equal(kind, received.Kind);
        Assert.Equal(hops, received.Hops);
        Assert.Equal(age, received.AgeMs);
        Assert.Equal(authorTree, received.AuthorTree);
    }

    [Fact]
    public void Keys_named_only_by_unsigned_frames_are_interned_up_to_a_bound_and_verified_authors_always()
    {
        var authors = new V2Authors();
        var random = new Random(7);
        byte[] key = new byte[32];
        string NextKey()
        {
            random.NextBytes(key);
            return Convert.ToBase64String(key) + ".ed25519";
        }

        for (int i = 0; i < V2Authors.MaxAuthorsFromFrames; i++)
        {
            Assert.True(authors.TryIntern(Encoding.UTF8.GetBytes(NextKey()), out _));
        }

        string known = authors.NameOf(0);
        Assert.False(authors.TryIntern(Encoding.UTF8.GetBytes(NextKey()), out int refused));
        Assert.Equal(-1, refused);
        Assert.True(authors.TryIntern(Encoding.UTF8.GetBytes(known), out int again)); // known keys still resolve
        Assert.Equal(0, again);
        Assert.Equal(V2Authors.MaxAuthorsFromFrames, authors.Intern(NextKey())); // a verified author is never refused
    }

    [Fact]
    public void Msg_is_written_sg2_first_with_m_last_and_defaults_left_out()
    {
        var authors = new V2Authors();
        string line = Encoding.UTF8.GetString(s_line);

        var full = new PlumtreeMessage(default, 0, PlumtreeSendKind.Eager, 3, true) { Line = s_line, AgeMs = 420 };
        Assert.Equal("{\"sg2\":\"msg\",\"k\":\"e\",\"h\":3,\"age\":420,\"t\":1,\"m\":" + line + "}", Text(V2Frames.Encode(full, authors)));

        var bare = new PlumtreeMessage(default, 0, PlumtreeSendKind.Graft, 0, false) { Line = s_line };
        Assert.Equal("{\"sg2\":\"msg\",\"k\":\"g\",\"m\":" + line + "}", Text(V2Frames.Encode(bare, authors)));
    }

    [Fact]
    public void Msg_hops_and_age_saturate_on_the_wire()
    {
        var authors = new V2Authors();
        var sent = new PlumtreeMessage(default, 0, PlumtreeSendKind.Eager, 100_000, false) { Line = s_line, AgeMs = long.MaxValue };

        var received = Assert.IsType<PlumtreeMessage>(RoundTrip(sent, authors));

        Assert.Equal(V2Frames.MaxHops, received.Hops);
        Assert.Equal(int.MaxValue, received.AgeMs);
    }

    [Fact]
    public void IHave_round_trips_and_ids_are_24_characters_of_little_endian_base64()
    {
        var authors = new V2Authors();
        var rng = new Random(7);
        MessageId[] ids = [MessageId.FromDigest(5, 1), .. Enumerable.Range(0, 20).Select(_ => MessageId.FromDigest(0, RandomDigest(rng)))];
        int[] hops = [.. Enumerable.Range(0, ids.Length).Select(i => i * 1000)];
        var sent = new PlumtreeIHave(ids, hops);

        byte[] encoded = V2Frames.Encode(sent, authors);
        Assert.StartsWith("{\"sg2\":\"ihave\",\"i\":[[\"" + Id1 + "\",0],[\"", Text(encoded), StringComparison.Ordinal);

        var received = Assert.IsType<PlumtreeIHave>(Decode(encoded, authors));
        Assert.Equal(ids.Select(id => id.Digest), received.Ids.Select(id => id.Digest));
        Assert.All(received.Ids, id => Assert.Equal(MessageId.UnknownAuthor, id.Author));
        Assert.Equal(hops, received.Hops);

        var empty = Assert.IsType<PlumtreeIHave>(RoundTrip(new PlumtreeIHave([], []), authors));
        Assert.Empty(empty.Ids);
        Assert.Empty(empty.Hops);
    }

    [Fact]
    public void Graft_round_trips_with_an_id_and_with_an_author()
    {
        var authors = new V2Authors();
        int author = authors.Intern(s_key);
        UInt128 digest = RandomDigest(new Random(1));

        var repair = Assert.IsType<PlumtreeGraft>(RoundTrip(new PlumtreeGraft(MessageId.FromDigest(author, digest), author), authors));
        Assert.Equal(digest, repair.Id!.Value.Digest);
        Assert.Equal(MessageId.UnknownAuthor, repair.Author);

        byte[] optimisationBytes = V2Frames.Encode(new PlumtreeGraft(null, author), authors);
        Assert.Equal("{\"sg2\":\"graft\",\"a\":\"" + s_key + "\"}", Text(optimisationBytes));
        var optimisation = Assert.IsType<PlumtreeGraft>(Decode(optimisationBytes, authors));
        Assert.Null(optimisation.Id);
        Assert.Equal(author, optimisation.Author);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Prune_round_trips(bool optimisation)
    {
        var authors = new V2Authors();
        authors.Intern(s_key2);
        int author = authors.Intern(s_key);

        byte[] encoded = V2Frames.Encode(new PlumtreePrune(author, optimisation), authors);
        Assert.Equal("{\"sg2\":\"prune\",\"a\":\"" + s_key + "\"" + (optimisation ? ",\"o\":1" : "") + "}", Text(encoded));

        var received = Assert.IsType<PlumtreePrune>(Decode(encoded, authors));
        Assert.Equal(author, received.Author);
        Assert.Equal(optimisation, received.Optimisation);
    }

    [Fact]
    public void Rooted_tree_frames_round_trip_the_beacon_the_root_a_msg_rides_and_the_graft_and_prune_flag()
    {
        var authors = new V2Authors();
        authors.Intern(s_key2);
        int root = authors.Intern(s_key);

        byte[] beacon = V2Frames.Encode(new PlumtreeBeacon(root, 3), authors);
        Assert.Equal("{\"sg2\":\"tree\",\"a\":\"" + s_key + "\",\"h\":3}", Text(beacon));
        Assert.Equal(new PlumtreeBeacon(root, 3), Decode(beacon, authors));

        var rides = new PlumtreeMessage(default, s_line.Length, PlumtreeSendKind.Eager, 2, false) { Line = s_line, Root = root };
        Assert.Equal(root, Assert.IsType<PlumtreeMessage>(RoundTrip(rides, authors)).Root);
        Assert.Equal(-1, Assert.IsType<PlumtreeMessage>(RoundTrip(rides with { Root = -1 }, authors)).Root);

        byte[] graft = V2Frames.Encode(new PlumtreeGraft(null, root) { Rooted = true }, authors);
        Assert.Equal("{\"sg2\":\"graft\",\"a\":\"" + s_key + "\",\"r\":1}", Text(graft));
        Assert.True(Assert.IsType<PlumtreeGraft>(Decode(graft, authors)).Rooted);

        byte[] prune = V2Frames.Encode(new PlumtreePrune(root, Optimisation: false) { Rooted = true }, authors);
        Assert.Equal("{\"sg2\":\"prune\",\"a\":\"" + s_key + "\",\"r\":1}", Text(prune));
        var decoded = Assert.IsType<PlumtreePrune>(Decode(prune, authors));
        Assert.True(decoded.Rooted);
        Assert.Equal(root, decoded.Author);
    }

    [Theory]
    [InlineData(true, true, "\"full\":1,\"end\":1,")]
    [InlineData(true, false, "\"full\":1,")]
    [InlineData(false, true, "")]
    public void Sync_round_trips(bool full, bool end, string flags)
    {
        var authors = new V2Authors();
        int a = authors.Intern(s_key);
        int b = authors.Intern(s_key2);
        var rng = new Random(3);
        PlumtreeFrontierEntry[] entries =
        [
            new(a, 1_735_689_600_000_000, [1_735_689_600_000_002, 1_735_689_600_000_041]),
            new(b, 0, []),
            PlumtreeFrontierEntry.ForDigests(b, [RandomDigest(rng), RandomDigest(rng)]),
            PlumtreeFrontierEntry.ForDigests(a, []),
        ];
        var sent = new PlumtreeSync(full, entries) { End = end };

        byte[] encoded = V2Frames.Encode(sent, authors);
        Assert.StartsWith("{\"sg2\":\"sync\"," + flags + "\"s\":[[\"" + s_key + "\",1735689600000000,[", Text(encoded), StringComparison.Ordinal);

        var received = Assert.IsType<PlumtreeSync>(Decode(encoded, authors));
        AssertSameFrame(sent, received);
    }

    [Fact]
    public void Empty_full_sync_is_both_arrays_empty()
    {
        var authors = new V2Authors();
        byte[] encoded = V2Frames.Encode(new PlumtreeSync(true, []), authors);
        Assert.Equal("{\"sg2\":\"sync\",\"full\":1,\"end\":1,\"s\":[],\"l\":[]}", Text(encoded));
        var received = Assert.IsType<PlumtreeSync>(Decode(encoded, authors));
        Assert.True(received.Full);
        Assert.True(received.End);
        Assert.Empty(received.Entries);
    }

    [Fact]
    public void Sync_lists_seq_entries_before_digest_entries()
    {
        var authors = new V2Authors();
        int a = authors.Intern(s_key);
        var sent = new PlumtreeSync(false, [PlumtreeFrontierEntry.ForDigests(a, [7]), new PlumtreeFrontierEntry(a, 3, [5])]);

        var received = Assert.IsType<PlumtreeSync>(RoundTrip(sent, authors));

        Assert.Null(received.Entries[0].Digests);
        Assert.Equal(3, received.Entries[0].Floor);
        Assert.Equal(new UInt128[] { 7 }, received.Entries[1].Digests!);
    }

    [Fact]
    public void Want_round_trips_digests_and_seqs_grouped_by_author()
    {
        var authors = new V2Authors();
        int a = authors.Intern(s_key);
        int b = authors.Intern(s_key2);
        var rng = new Random(5);
        UInt128 d1 = RandomDigest(rng), d2 = RandomDigest(rng);
        var sent = new PlumtreeWant([new MessageId(a, 10), MessageId.FromDigest(a, d1), new MessageId(b, 0), new MessageId(a, 12), MessageId.FromDigest(MessageId.UnknownAuthor, d2)]);

        byte[] encoded = V2Frames.Encode(sent, authors);
        Assert.Matches("^\\{\"sg2\":\"want\",\"i\":\\[\"[^\"]{24}\",\"[^\"]{24}\"\\],\"s\":\\[\\[\"[^\"]+\",\\[10,12\\]\\],\\[\"[^\"]+\",\\[0\\]\\]\\]\\}$", Text(encoded));

        var received = Assert.IsType<PlumtreeWant>(Decode(encoded, authors));
        Assert.Equal(5, received.Ids.Length);
        Assert.Equal(d1, received.Ids[0].Digest);
        Assert.Equal(d2, received.Ids[1].Digest);
        Assert.Equal(MessageId.UnknownAuthor, received.Ids[0].Author);
        Assert.Equal(new MessageId(a, 10), received.Ids[2]);
        Assert.Equal(new MessageId(a, 12), received.Ids[3]);
        Assert.Equal(new MessageId(b, 0), received.Ids[4]);
        Assert.All(received.Ids[2..], id => Assert.False(id.HasDigest));

        var empty = Assert.IsType<PlumtreeWant>(RoundTrip(new PlumtreeWant([]), authors));
        Assert.Empty(empty.Ids);
    }

    [Fact]
    public void Hello_decodes_to_no_frame_and_no_error()
    {
        bool ok = V2Frames.TryDecode(V2Hello.Create(s_key, 1_049_600), new V2Authors(), Depth, out IGossipFrame? frame, out string? error);
        Assert.True(ok);
        Assert.Null(frame);
        Assert.Null(error);
    }

    // ---- The embedded line ----

    [Fact]
    public void M_is_sliced_byte_for_byte_with_odd_whitespace_escapes_and_non_ascii()
    {
        string m = "{ \"data\" :\t{\"text\":\"h\\u00e9 \\\"q\\\" \\/ \\\\n ünï € 😀 \\ud83d\\ude00\",\"n\":1.50e+2 ,\"signature\":\"c2ln.sig.ed25519\"}\r,"
            + "\"public\":\"" + s_key + "\" , \"seq\" : 1 ,\"x\":[ ] ,\"y\":{ } }";
        string[] frames =
        [
            "{\"sg2\":\"msg\",\"k\":\"e\",\"m\":" + m + "}",
            "{\"sg2\":\"msg\",\"k\":\"e\",\"m\":   " + m + "   }",
            "{\"m\":" + m + ",\"k\":\"s\",\"sg2\":\"msg\"}",
            "  {\"k\":\"g\",\"m\":" + m + ",\"sg2\":\"msg\",\"after\":{\"m\":1}}  ",
        ];

        foreach (string text in frames)
        {
            var message = Assert.IsType<PlumtreeMessage>(Decode(Encoding.UTF8.GetBytes(text), new V2Authors()));
            Assert.Equal(Encoding.UTF8.GetBytes(m), message.Line);
            Assert.Equal(message.Line!.Length, message.PayloadBytes);
        }

        // And written back unchanged.
        var authors = new V2Authors();
        var decoded = (PlumtreeMessage)Decode(Encoding.UTF8.GetBytes(frames[0]), authors)!;
        Assert.Equal(frames[0], Text(V2Frames.Encode(decoded, authors)));
    }

    // ---- Receiver rules ----

    [Fact]
    public void Sg2_need_not_come_first()
    {
        var authors = new V2Authors();
        var prune = Assert.IsType<PlumtreePrune>(Decode(Bytes("{\"o\":1,\"a\":\"KEY\",\"sg2\":\"prune\"}"), authors));
        Assert.Equal(authors.Intern(s_key), prune.Author);
        Assert.True(prune.Optimisation);

        var ihave = Assert.IsType<PlumtreeIHave>(Decode(Bytes("{\"i\":[[\"" + Id1 + "\",2]],\"sg2\":\"ihave\"}"), authors));
        Assert.Equal((UInt128)1, ihave.Ids[0].Digest);
        Assert.Equal(new[] { 2 }, ihave.Hops);
    }

    [Fact]
    public void Unknown_members_are_ignored()
    {
        var authors = new V2Authors();
        string text = "{\"sg2\":\"graft\",\"zz\":{\"deep\":[1,[2,{\"k\":null}]]},\"a\":\"KEY\",\"h\":\"not read by a graft\","
            + "\"s\":[1],\"s\":[2],\"\\u0078\":true,\"m\":7,\"ext\":[]}";

        var graft = Assert.IsType<PlumtreeGraft>(Decode(Bytes(text), authors));

        Assert.Null(graft.Id);
        Assert.Equal(authors.Intern(s_key), graft.Author);
    }

    [Fact]
    public void Escaped_member_names_and_values_are_read_as_their_text()
    {
        var authors = new V2Authors();
        string escapedKey = string.Concat(s_key.Select(c => $"\\u{(int)c:x4}"));
        string text = "{\"\\u0073g2\":\"\\u0070rune\",\"\\u0061\":\"" + escapedKey + "\"}";

        var prune = Assert.IsType<PlumtreePrune>(Decode(Bytes(text), authors));

        Assert.Equal(authors.Intern(s_key), prune.Author);
        Assert.Equal(1, authors.Count);
    }

    public static TheoryData<string, string> Errors => new()
    {
        { "[1]", "not a JSON object" },
        { "\"sg2\"", "not a JSON object" },
        { "{\"a\":1}", "sg2" },
        { "{\"sg2\":1}", "sg2: not a string" },
        { "{\"sg2\":\"prune\",\"a\":\"KEY\",\"sg2\":\"prune\"}", "sg2: duplicate" },
        { "{\"sg2\":\"msg\",\"k\":\"e\",\"m\":{},\"data\":{}}", "\"data\"" },
        { "{\"public\":\"KEY\",\"sg2\":\"prune\",\"a\":\"KEY\"}", "\"public\"" },
        { "{\"sg2\":\"hello\",\"seq\":1}", "\"seq\"" },
        { "{\"sg2\":\"nope\"}", "unknown frame type \"nope\"" },
        { "{\"sg2\":\"eob\",\"n\":3}", "unknown frame type \"eob\"" },
        { "{\"sg2\":\"msg\",", "malformed JSON" },
        { "{\"sg2\":\"next\"} x", "malformed JSON" },
        { "{\"sg2\":\"next\"}{}", "malformed JSON" },
        { "{\"sg2\":\"next\",}", "malformed JSON" },
        { "{\"sg2\":\"next\"/**/}", "malformed JSON" },
        { "", "malformed JSON" },

        { "{\"sg2\":\"msg\",\"m\":{}}", "msg.k: missing" },
        { "{\"sg2\":\"msg\",\"k\":\"x\",\"m\":{}}", "msg.k" },
        { "{\"sg2\":\"msg\",\"k\":1,\"m\":{}}", "msg.k" },
        { "{\"sg2\":\"msg\",\"k\":\"e\",\"k\":\"e\",\"m\":{}}", "msg.k: duplicate" },
        { "{\"sg2\":\"msg\",\"k\":\"e\",\"h\":-1,\"m\":{}}", "msg.h" },
        { "{\"sg2\":\"msg\",\"k\":\"e\",\"h\":65536,\"m\":{}}", "msg.h" },
        { "{\"sg2\":\"msg\",\"k\":\"e\",\"h\":1.5,\"m\":{}}", "msg.h" },
        { "{\"sg2\":\"msg\",\"k\":\"e\",\"h\":1e1,\"m\":{}}", "msg.h" },
        { "{\"sg2\":\"msg\",\"k\":\"e\",\"h\":\"3\",\"m\":{}}", "msg.h" },
        { "{\"sg2\":\"msg\",\"k\":\"e\",\"h\":null,\"m\":{}}", "msg.h" },
        { "{\"sg2\":\"msg\",\"k\":\"e\",\"age\":-1,\"m\":{}}", "msg.age" },
        { "{\"sg2\":\"msg\",\"k\":\"e\",\"age\":2147483648,\"m\":{}}", "msg.age" },
        { "{\"sg2\":\"msg\",\"k\":\"e\",\"t\":2,\"m\":{}}", "msg.t" },
        { "{\"sg2\":\"msg\",\"k\":\"e\",\"t\":true,\"m\":{}}", "msg.t" },
        { "{\"sg2\":\"msg\",\"k\":\"e\"}", "msg.m: missing" },
        { "{\"sg2\":\"msg\",\"k\":\"e\",\"m\":[]}", "msg.m" },
        { "{\"sg2\":\"msg\",\"k\":\"e\",\"m\":\"{}\"}", "msg.m" },

        { "{\"sg2\":\"ihave\"}", "ihave.i: missing" },
        { "{\"sg2\":\"ihave\",\"i\":{}}", "ihave.i" },
        { "{\"sg2\":\"ihave\",\"i\":[\"ID1\"]}", "ihave.i[0]" },
        { "{\"sg2\":\"ihave\",\"i\":[[\"ID1\",1],[\"AQAAAAAAAAAAAAAAAAAAAA\",1]]}", "ihave.i[1]: id" },
        { "{\"sg2\":\"ihave\",\"i\":[[\"AQAAAAAAAAAAAAAAAAAAAB==\",1]]}", "ihave.i[0]: id" },
        { "{\"sg2\":\"ihave\",\"i\":[[\"-_AAAAAAAAAAAAAAAAAAAA==\",1]]}", "ihave.i[0]: id" },
        { "{\"sg2\":\"ihave\",\"i\":[[\"AQAAAAAAAAAAAAAA AAAAAA==\",1]]}", "ihave.i[0]: id" },
        { "{\"sg2\":\"ihave\",\"i\":[[\"AAAAAAAAAAAAAAAAAAAAAA==\",1]]}", "ihave.i[0]: id" },
        { "{\"sg2\":\"ihave\",\"i\":[[\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",1]]}", "ihave.i[0]: id" },
        { "{\"sg2\":\"ihave\",\"i\":[[1,1]]}", "ihave.i[0]: id" },
        { "{\"sg2\":\"ihave\",\"i\":[[]]}", "ihave.i[0]: id" },
        { "{\"sg2\":\"ihave\",\"i\":[[\"ID1\"]]}", "ihave.i[0]: h" },
        { "{\"sg2\":\"ihave\",\"i\":[[\"ID1\",-1]]}", "ihave.i[0]: h" },
        { "{\"sg2\":\"ihave\",\"i\":[[\"ID1\",65536]]}", "ihave.i[0]: h" },
        { "{\"sg2\":\"ihave\",\"i\":[[\"ID1\",1,2]]}", "ihave.i[0]" },

        { "{\"sg2\":\"graft\"}", "graft: neither i nor a" },
        { "{\"sg2\":\"graft\",\"i\":\"nope\",\"a\":\"KEY\"}", "graft.i" },
        { "{\"sg2\":\"graft\",\"i\":[\"ID1\"]}", "graft.i" },
        { "{\"sg2\":\"graft\",\"a\":\"AQAAAAAAAAAAAAAAAAAAAA==.ed25519\"}", "graft.a" },
        { "{\"sg2\":\"graft\",\"a\":1}", "graft.a" },

        { "{\"sg2\":\"prune\"}", "prune.a: missing" },
        { "{\"sg2\":\"prune\",\"a\":\"KEY.x\"}", "prune.a" },
        { "{\"sg2\":\"prune\",\"a\":\"KEY\",\"o\":2}", "prune.o" },
        { "{\"sg2\":\"prune\",\"a\":\"KEY\",\"a\":\"KEY\"}", "prune.a: duplicate" },

        { "{\"sg2\":\"sync\",\"full\":2,\"s\":[],\"l\":[]}", "sync.full" },
        { "{\"sg2\":\"sync\",\"full\":1,\"end\":\"1\",\"s\":[],\"l\":[]}", "sync.end" },
        { "{\"sg2\":\"sync\",\"s\":{},\"l\":[]}", "sync.s" },
        { "{\"sg2\":\"sync\",\"s\":[],\"l\":1}", "sync.l" },
        { "{\"sg2\":\"sync\",\"s\":[\"KEY\"],\"l\":[]}", "sync.s[0]" },
        { "{\"sg2\":\"sync\",\"s\":[[\"KEY\",0,[]],[\"KEY.x\",0,[]]],\"l\":[]}", "sync.s[1]: author" },
        { "{\"sg2\":\"sync\",\"s\":[[\"KEY\",-1,[]]],\"l\":[]}", "sync.s[0]: floor" },
        { "{\"sg2\":\"sync\",\"s\":[[\"KEY\",0.5,[]]],\"l\":[]}", "sync.s[0]: floor" },
        { "{\"sg2\":\"sync\",\"s\":[[\"KEY\",0]],\"l\":[]}", "sync.s[0]: seqs" },
        { "{\"sg2\":\"sync\",\"s\":[[\"KEY\",0,[1,-2]]],\"l\":[]}", "sync.s[0][1]: seq" },
        { "{\"sg2\":\"sync\",\"s\":[[\"KEY\",0,[1,\"2\"]]],\"l\":[]}", "sync.s[0][1]: seq" },
        { "{\"sg2\":\"sync\",\"s\":[[\"KEY\",0,[],1]],\"l\":[]}", "sync.s[0]" },
        { "{\"sg2\":\"sync\",\"s\":[],\"l\":[[\"KEY\",[\"ID1\",\"nope\"]]]}", "sync.l[0][1]: id" },
        { "{\"sg2\":\"sync\",\"s\":[],\"l\":[[\"KEY\"]]}", "sync.l[0]: ids" },
        { "{\"sg2\":\"sync\",\"s\":[],\"l\":[[1,[]]]}", "sync.l[0]: author" },
        { "{\"sg2\":\"sync\",\"s\":[],\"l\":[[\"KEY\",[],[]]]}", "sync.l[0]" },

        { "{\"sg2\":\"want\",\"i\":[\"ID1\",\"short\"]}", "want.i[1]" },
        { "{\"sg2\":\"want\",\"i\":\"ID1\"}", "want.i" },
        { "{\"sg2\":\"want\",\"s\":[[\"KEY.x\",[1]]]}", "want.s[0]: author" },
        { "{\"sg2\":\"want\",\"s\":[[\"KEY\",[-1]]]}", "want.s[0][0]: seq" },
        { "{\"sg2\":\"want\",\"s\":[[\"KEY\",1]]}", "want.s[0]: seqs" },
        { "{\"sg2\":\"want\",\"s\":[[\"KEY\",[1],2]]}", "want.s[0]" },
        { "{\"sg2\":\"want\",\"s\":{}}", "want.s" },
        { "{\"sg2\":\"tree\",\"h\":1}", "tree.a: missing" },
        { "{\"sg2\":\"tree\",\"a\":\"KEY\"}", "tree.h: missing" },
        { "{\"sg2\":\"tree\",\"a\":\"KEY\",\"h\":0}", "tree.h" },
        { "{\"sg2\":\"tree\",\"a\":\"KEY.x\",\"h\":1}", "tree.a" },
        { "{\"sg2\":\"tree\",\"a\":\"KEY\",\"h\":1,\"h\":2}", "tree.h: duplicate" },
        { "{\"sg2\":\"msg\",\"k\":\"e\",\"r\":7,\"m\":{}}", "msg.r" },
        { "{\"sg2\":\"prune\",\"a\":\"KEY\",\"r\":2}", "prune.r" },
        { "{\"sg2\":\"graft\",\"a\":\"KEY\",\"r\":\"1\"}", "graft.r" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Rule_breaking_frames_are_rejected_with_the_member_named(string text, string expected)
    {
        bool ok = V2Frames.TryDecode(Bytes(text), new V2Authors(), Depth, out IGossipFrame? frame, out string? error);

        Assert.False(ok);
        Assert.Null(frame);
        Assert.NotNull(error);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_beyond_the_limit_is_rejected()
    {
        string m = new string('[', 9) + new string(']', 9);
        string text = "{\"sg2\":\"msg\",\"k\":\"e\",\"m\":{\"data\":" + m + "}}";

        Assert.True(V2Frames.TryDecode(Bytes(text), new V2Authors(), 10, out _, out _)); // 9 + m + frame = 11 deep, limit 10 + 2
        Assert.False(V2Frames.TryDecode(Bytes(text), new V2Authors(), 8, out _, out string? error));
        Assert.Contains("depth", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Entry_and_item_limits_are_enforced()
    {
        string ihave(int n) => "{\"sg2\":\"ihave\",\"i\":[" + string.Join(",", Enumerable.Repeat("[\"ID1\",1]", n)) + "]}";
        AssertAccepted(ihave(V2Frames.MaxIHaveIds));
        AssertRejected(ihave(V2Frames.MaxIHaveIds + 1), "ihave.i: more than 512");

        string wantIds(int n) => "{\"sg2\":\"want\",\"i\":[" + string.Join(",", Enumerable.Repeat("\"ID1\"", n)) + "]}";
        AssertAccepted(wantIds(V2Frames.MaxWantIds));
        AssertRejected(wantIds(V2Frames.MaxWantIds + 1), "want.i: more than 1024");

        string wantSeqs(int perEntry, int entries) => "{\"sg2\":\"want\",\"s\":["
            + string.Join(",", Enumerable.Repeat("[\"KEY\",[" + string.Join(",", Enumerable.Range(0, perEntry)) + "]]", entries)) + "]}";
        AssertAccepted(wantSeqs(512, 2));
        AssertRejected(wantSeqs(512, 2).Replace("[0,", "[0,9,", StringComparison.Ordinal), "want.s[1]: more than 1024 seqs");
        AssertRejected(wantSeqs(1, V2Frames.MaxWantSeqs + 1), "want.s: more than 1024 entries");

        string syncEntries(int signed, int legacy) => "{\"sg2\":\"sync\",\"s\":["
            + string.Join(",", Enumerable.Repeat("[\"KEY\",0,[]]", signed)) + "],\"l\":["
            + string.Join(",", Enumerable.Repeat("[\"KEY2\",[]]", legacy)) + "]}";
        AssertAccepted(syncEntries(4000, 96));
        AssertRejected(syncEntries(4000, 97), "sync.l: more than 4096 entries");
        AssertRejected(syncEntries(4097, 0), "sync.s: more than 4096 entries");

        string seqs = string.Join(",", Enumerable.Range(0, 32_768));
        string ids = string.Join(",", Enumerable.Repeat("\"ID1\"", 32_768));
        string syncItems(string extra) => "{\"sg2\":\"sync\",\"s\":[[\"KEY\",0,[" + seqs + "]]],\"l\":[[\"KEY2\",[" + ids + extra + "]]]}";
        AssertAccepted(syncItems(""));
        AssertRejected(syncItems(",\"ID2\""), "sync.l[0]: more than 65536 seqs and ids");
    }

    // ---- Authors ----

    [Fact]
    public void Every_spelling_of_a_key_interns_to_one_index_named_canonically()
    {
        using GossipKeys keys = GossipKeys.Generate();
        using GossipKeys other = GossipKeys.Generate();
        string standard = Convert.ToBase64String(keys.PublicKey);
        string urlSafe = standard.Replace('+', '-').Replace('/', '_');
        string[] spellings =
        [
            keys.Public,
            standard + ".ed25519",
            urlSafe + ".ed25519",
            standard.TrimEnd('=') + ".ed25519",
            urlSafe.TrimEnd('=') + ".ed25519",
            "@" + standard + ".ed25519",
            standard[..10] + " \u00e9" + standard[10..] + ".ed25519", // node skips characters outside the alphabet
        ];

        var authors = new V2Authors();
        int index = authors.Intern(keys.Public);
        foreach (string spelling in spellings)
        {
            Assert.Equal(index, authors.Intern(spelling));
            Assert.True(authors.TryIntern(Encoding.UTF8.GetBytes(spelling), out int fromBytes));
            Assert.Equal(index, fromBytes);
        }

        Assert.Equal(keys.Public, authors.NameOf(index));
        Assert.Equal(1, authors.Count);
        Assert.NotEqual(index, authors.Intern(other.Public));
        Assert.Equal(other.Public, authors.NameOf(authors.Intern(other.Public)));

        // Through frames too: a prune naming the key URL-safe and unpadded is a prune of the same author.
        var prune = Assert.IsType<PlumtreePrune>(Decode(Bytes("{\"sg2\":\"prune\",\"a\":\"" + urlSafe.TrimEnd('=') + ".ed25519\"}"), authors));
        Assert.Equal(index, prune.Author);
        Assert.Equal("{\"sg2\":\"prune\",\"a\":\"" + keys.Public + "\"}", Text(V2Frames.Encode(prune, authors)));
    }

    [Theory]
    [InlineData("")]
    [InlineData(".ed25519")]
    [InlineData("AQID")]
    [InlineData("AQID.ed25519")]
    [InlineData("KEY")]
    [InlineData("KEY.sha256")]
    [InlineData("KEY.ed25519.x")]
    [InlineData("KEYAA.ed25519")]
    [InlineData("KEY.ED25519")]
    public void Anything_but_a_32_byte_ed25519_key_is_refused(string spelling)
    {
        spelling = spelling.Replace("KEY", Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()).TrimEnd('='), StringComparison.Ordinal);
        var authors = new V2Authors();

        Assert.False(authors.TryIntern(Encoding.UTF8.GetBytes(spelling), out _));
        var thrown = Assert.Throws<ArgumentException>(() => authors.Intern(spelling));
        Assert.Contains("ed25519", thrown.Message, StringComparison.Ordinal);
        Assert.Equal(0, authors.Count);
    }

    [Fact]
    public void Interning_is_safe_from_many_threads()
    {
        string[] keys = [.. Enumerable.Range(1, 50).Select(i => KeyFromSeed((byte)i))];
        var authors = new V2Authors();

        int[][] seen = new int[8][];
        Parallel.For(0, seen.Length, t => seen[t] = [.. keys.Select(authors.Intern)]);

        Assert.Equal(keys.Length, authors.Count);
        Assert.All(seen, indices => Assert.Equal(seen[0], indices));
        Assert.Equal(keys, seen[0].Select(authors.NameOf));
    }

    // ---- Encoder preconditions ----

    [Fact]
    public void Encoding_what_cannot_go_on_the_wire_throws_ArgumentException()
    {
        var authors = new V2Authors();
        int a = authors.Intern(s_key);

        Assert.Throws<ArgumentException>(() => V2Frames.Encode(new PlumtreeMessage(default, 10, PlumtreeSendKind.Eager, 1, false), authors));
        Assert.Throws<ArgumentException>(() => V2Frames.Encode(new PlumtreeMessage(default, 10, PlumtreeSendKind.Eager, 1, false) { Line = "[1]"u8.ToArray() }, authors));
        Assert.Throws<ArgumentException>(() => V2Frames.Encode(new PlumtreeMessage(default, 10, PlumtreeSendKind.Eager, 1, false) { Line = "{\n}"u8.ToArray() }, authors));
        Assert.Throws<ArgumentException>(() => V2Frames.Encode(new PlumtreeIHave([new MessageId(a, 1)], [1]), authors));
        Assert.Throws<ArgumentException>(() => V2Frames.Encode(new PlumtreeIHave([MessageId.FromDigest(a, 1)], []), authors));
        Assert.Throws<ArgumentException>(() => V2Frames.Encode(new PlumtreeGraft(new MessageId(a, 1), a), authors));
        Assert.Throws<ArgumentException>(() => V2Frames.Encode(new PlumtreeSync(true, [PlumtreeFrontierEntry.ForDigests(a, [0])]), authors));
        Assert.Throws<ArgumentException>(() => V2Frames.Encode(new PlumtreeWant([new MessageId(a, MessageId.Unsequenced)]), authors));
        Assert.Throws<ArgumentOutOfRangeException>(() => V2Frames.Encode(new PlumtreePrune(a + 1, false), authors));
        Assert.Throws<ArgumentException>(() => V2Frames.Encode(new OtherFrame(), authors));
    }

    // ---- Fuzz ----

    [Fact]
    public void Mutated_frames_never_throw()
    {
        var authors = new V2Authors();
        int a = authors.Intern(s_key);
        int b = authors.Intern(s_key2);
        var rng = new Random(20_250_101);
        List<byte[]> corpus =
        [
            V2Frames.Encode(new PlumtreeMessage(default, 0, PlumtreeSendKind.Eager, 3, true) { Line = s_line, AgeMs = 420 }, authors),
            V2Frames.Encode(new PlumtreeIHave([MessageId.FromDigest(a, RandomDigest(rng)), MessageId.FromDigest(a, RandomDigest(rng))], [1, 2]), authors),
            V2Frames.Encode(new PlumtreeGraft(MessageId.FromDigest(a, RandomDigest(rng)), a), authors),
            V2Frames.Encode(new PlumtreeGraft(null, b), authors),
            V2Frames.Encode(new PlumtreePrune(a, true), authors),
            V2Frames.Encode(new PlumtreeSync(true, [new PlumtreeFrontierEntry(a, 4, [6, 9]), PlumtreeFrontierEntry.ForDigests(b, [RandomDigest(rng)])]) { End = false }, authors),
            V2Frames.Encode(new PlumtreeWant([MessageId.FromDigest(a, RandomDigest(rng)), new MessageId(b, 3)]), authors),
            V2Hello.Create(s_key, 1_049_600),
            Bytes("{\"sg2\":\"prune\",\"a\":\"\\u0041" + s_key[1..] + "\",\"zz\":[{\"q\":\"\\ud83d\\ude00 \\ud800\"}]}"),
        ];
        byte[] interesting = "{}[]\",:\\0123456789-+.eE tfnul=/_"u8.ToArray();

        int accepted = 0;
        for (int i = 0; i < 5000; i++)
        {
            byte[] mutant = Mutate(corpus[rng.Next(corpus.Count)], rng, interesting);
            bool ok = V2Frames.TryDecode(mutant, authors, 8, out IGossipFrame? frame, out string? error);
            if (!ok)
            {
                Assert.Null(frame);
                Assert.False(string.IsNullOrEmpty(error));
                continue;
            }

            Assert.Null(error);
            accepted++;
            if (frame is null || frame is PlumtreeMessage { Line: { } line } && line.AsSpan().Contains((byte)'\n'))
            {
                continue;
            }

            // Whatever is accepted can be written again, and reads back the same.
            byte[] again = V2Frames.Encode(frame, authors);
            AssertSameFrame(frame, Decode(again, authors)!);
        }

        Assert.InRange(accepted, 1, 4999); // the mutations both keep and break frames
    }

    [Fact]
    public void Random_bytes_never_throw()
    {
        var rng = new Random(99);
        var authors = new V2Authors();
        for (int i = 0; i < 2000; i++)
        {
            byte[] noise = new byte[rng.Next(0, 64)];
            rng.NextBytes(noise);
            if (i % 2 == 0 && noise.Length > 0)
            {
                noise[0] = (byte)'{';
            }

            bool ok = V2Frames.TryDecode(noise, authors, Depth, out IGossipFrame? frame, out string? error);
            Assert.Equal(ok, error is null);
            Assert.True(ok || frame is null);
        }
    }

    // ---- Helpers ----

    private static byte[] Mutate(byte[] source, Random rng, byte[] interesting)
    {
        var bytes = new List<byte>(source);
        int edits = 1 + rng.Next(3);
        for (int e = 0; e < edits; e++)
        {
            int at = rng.Next(bytes.Count + 1);
            byte value = rng.Next(3) == 0 ? (byte)rng.Next(256) : interesting[rng.Next(interesting.Length)];
            switch (rng.Next(6))
            {
                case 0 when at < bytes.Count:
                    bytes[at] = value;
                    break;
                case 1 when at < bytes.Count:
                    bytes[at] ^= (byte)(1 << rng.Next(8));
                    break;
                case 2:
                    bytes.RemoveRange(at, bytes.Count - at); // truncate
                    break;
                case 3:
                    bytes.Insert(at, value);
                    break;
                case 4 when at < bytes.Count:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + rng.Next(8)));
                    break;
                default:
                    int from = rng.Next(bytes.Count + 1);
                    int length = Math.Min(bytes.Count - from, rng.Next(16));
                    bytes.InsertRange(at, bytes.GetRange(from, length)); // duplicate a slice
                    break;
            }
        }

        return [.. bytes];
    }

    private static IGossipFrame RoundTrip(IGossipFrame frame, V2Authors authors)
    {
        byte[] encoded = V2Frames.Encode(frame, authors);
        Assert.StartsWith("{\"sg2\":\"", Text(encoded), StringComparison.Ordinal);
        Assert.DoesNotContain((byte)'\n', encoded);
        IGossipFrame decoded = Decode(encoded, authors)!;
        AssertSameFrame(frame, decoded);
        return decoded;
    }

    private static IGossipFrame? Decode(byte[] line, V2Authors authors)
    {
        bool ok = V2Frames.TryDecode(line, authors, Depth, out IGossipFrame? frame, out string? error);
        Assert.True(ok, error);
        Assert.Null(error);
        return frame;
    }

    /// <summary>Same content, field by field (the records hold arrays, so record equality compares references).</summary>
    private static void AssertSameFrame(IGossipFrame expected, IGossipFrame actual)
    {
        switch (expected)
        {
            case PlumtreeMessage m:
                var am = Assert.IsType<PlumtreeMessage>(actual);
                Assert.Equal(m.Line, am.Line);
                Assert.Equal(m.Kind, am.Kind);
                Assert.Equal(Math.Clamp(m.Hops, 0, V2Frames.MaxHops), am.Hops);
                Assert.Equal(Math.Clamp(m.AgeMs, 0, int.MaxValue), am.AgeMs);
                Assert.Equal(m.AuthorTree, am.AuthorTree);
                break;
            case PlumtreeIHave h:
                var ah = Assert.IsType<PlumtreeIHave>(actual);
                Assert.Equal(h.Ids.Select(id => id.Digest), ah.Ids.Select(id => id.Digest));
                Assert.Equal(h.Hops, ah.Hops);
                break;
            case PlumtreeGraft g:
                var ag = Assert.IsType<PlumtreeGraft>(actual);
                Assert.Equal(g.Id?.Digest, ag.Id?.Digest);
                Assert.Equal(g.Id is null ? g.Author : MessageId.UnknownAuthor, ag.Author);
                break;
            case PlumtreePrune p:
                Assert.Equal(p, Assert.IsType<PlumtreePrune>(actual));
                break;
            case PlumtreeSync s:
                var aSync = Assert.IsType<PlumtreeSync>(actual);
                Assert.Equal(s.Full, aSync.Full);
                Assert.Equal(!s.Full || s.End, aSync.End);
                PlumtreeFrontierEntry[] ordered = [.. s.Entries.Where(e => e.Digests is null), .. s.Entries.Where(e => e.Digests is not null)];
                Assert.Equal(ordered.Length, aSync.Entries.Length);
                for (int i = 0; i < ordered.Length; i++)
                {
                    Assert.Equal(ordered[i].Author, aSync.Entries[i].Author);
                    Assert.Equal(ordered[i].Digests is null ? ordered[i].Floor : 0, aSync.Entries[i].Floor);
                    Assert.Equal(ordered[i].Digests is null ? ordered[i].Above : [], aSync.Entries[i].Above);
                    Assert.Equal(ordered[i].Digests, aSync.Entries[i].Digests);
                }

                break;
            case PlumtreeWant w:
                var aw = Assert.IsType<PlumtreeWant>(actual);
                Assert.Equal(w.Ids.Where(id => id.HasDigest).Select(id => id.Digest), aw.Ids.Where(id => id.HasDigest).Select(id => id.Digest));
                Assert.Equal(
                    w.Ids.Where(id => !id.HasDigest).OrderBy(id => id.Author).ThenBy(id => id.Sequence),
                    aw.Ids.Where(id => !id.HasDigest).OrderBy(id => id.Author).ThenBy(id => id.Sequence));
                break;
            default:
                Assert.Fail($"unexpected {expected.GetType().Name}");
                break;
        }
    }

    private static void AssertAccepted(string text) => Decode(Bytes(text), new V2Authors());

    private static void AssertRejected(string text, string expected)
    {
        Assert.False(V2Frames.TryDecode(Bytes(text), new V2Authors(), Depth, out _, out string? error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(
        text.Replace("KEY2", s_key2, StringComparison.Ordinal).Replace("KEY", s_key, StringComparison.Ordinal).Replace("ID1", Id1, StringComparison.Ordinal));

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    private static UInt128 RandomDigest(Random rng) => new((ulong)rng.NextInt64(), (ulong)rng.NextInt64() | 1);

    private static string KeyFromSeed(byte seed)
    {
        using GossipKeys keys = GossipKeys.FromSeed(Enumerable.Repeat(seed, 32).ToArray());
        return keys.Public;
    }

    private sealed class OtherFrame : IGossipFrame
    {
        public int SizeBytes => 1;

        public int PayloadCount => 0;
    }
}
