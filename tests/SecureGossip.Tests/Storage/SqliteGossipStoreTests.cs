using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using SecureGossip.Storage;

namespace SecureGossip.Tests.Storage;

public sealed class SqliteGossipStoreTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "sgossip-store-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _clock = new(Start);

    public SqliteGossipStoreTests()
    {
        Directory.CreateDirectory(_directory);
    }

    private string StorePath => Path.Combine(_directory, "gossip.db");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Messages_and_seen_ids_survive_dispose_and_reopen()
    {
        StoredMessage own = Message(1, "alice", 0, own: true, Start);
        StoredMessage received = Message(UInt128.MaxValue - 7, "bob", 41, own: false, Start.AddSeconds(1));
        StoredMessage batched = Message(3, "carol", 0.5, own: false, Start.AddSeconds(2));
        using (SqliteGossipStore store = Open())
        {
            GossipStoreSnapshot empty = store.Load(Start, new GossipRetention());
            Assert.Equal(0, empty.NextSequence);
            Assert.Empty(empty.Retained);
            Assert.Empty(empty.SeenIds);

            store.Add(own, durable: true);
            store.Add(received, durable: false);
            store.Add(batched, durable: false);
        }

        // Dispose committed the batch and released the file: it reopens in a new store.
        using (SqliteGossipStore reopened = Open())
        {
            GossipStoreSnapshot snapshot = reopened.Load(Start.AddMinutes(1), new GossipRetention());
            Assert.Equal(1, snapshot.NextSequence);
            AssertMessages([own, received, batched], snapshot.Retained);
            Assert.Equal(new UInt128[] { 1, 3, UInt128.MaxValue - 7 }, snapshot.SeenIds.Order());
        }

        File.Delete(StorePath);
        Assert.False(File.Exists(StorePath));
    }

    [Fact]
    public void Next_sequence_continues_after_reopen_and_never_goes_down_when_own_messages_are_pruned()
    {
        using (SqliteGossipStore store = Open())
        {
            store.Load(Start, new GossipRetention());
            store.Add(Message(1, "me", 0, own: true, Start), durable: true);
            store.Add(Message(2, "me", 1, own: true, Start), durable: true);
            store.Add(Message(3, "me", 2, own: true, Start), durable: true);
        }

        using (SqliteGossipStore store = Open())
        {
            Assert.Equal(3, store.Load(Start, new GossipRetention()).NextSequence);

            // An own message stored late with a lower seq does not pull next_seq back.
            store.Add(Message(4, "me", 7, own: true, Start.AddMinutes(1)), durable: true);
            store.Add(Message(5, "me", 5, own: true, Start.AddMinutes(2)), durable: true);
        }

        using (SqliteGossipStore store = Open())
        {
            // Pruning by count leaves only seq 5, pruning by age then leaves nothing: next_seq stays 8.
            GossipStoreSnapshot byCount = store.Load(Start.AddMinutes(2), new GossipRetention { MaxPerAuthor = 1 });
            Assert.Equal(8, byCount.NextSequence);
            Assert.Equal(5, Assert.Single(byCount.Retained).Sequence);

            GossipStoreSnapshot byAge = store.Load(Start.AddDays(3), new GossipRetention());
            Assert.Empty(byAge.Retained);
            Assert.Equal(8, byAge.NextSequence);
        }

        using SqliteGossipStore last = Open();
        Assert.Equal(8, last.Load(Start.AddDays(3), new GossipRetention()).NextSequence);
    }

    [Fact]
    public void Load_drops_messages_accepted_longer_ago_than_MaxAge()
    {
        DateTimeOffset now = Start.AddDays(1);
        var retention = new GossipRetention { MaxAge = TimeSpan.FromHours(24) };
        StoredMessage tooOld = Message(1, "alice", 1, own: false, now - TimeSpan.FromHours(24) - TimeSpan.FromMilliseconds(1));
        StoredMessage justInTime = Message(2, "alice", 2, own: false, now - TimeSpan.FromHours(24));
        StoredMessage recent = Message(3, "bob", 1, own: false, now - TimeSpan.FromMinutes(5));
        using (SqliteGossipStore store = Open())
        {
            store.Add(recent, durable: true);
            store.Add(tooOld, durable: true);
            store.Add(justInTime, durable: true);
        }

        using SqliteGossipStore reopened = Open();
        GossipStoreSnapshot snapshot = reopened.Load(now, retention);
        AssertMessages([justInTime, recent], snapshot.Retained);
        Assert.Equal(2, CountRows("SELECT count(*) FROM messages"));

        // The id of the message no longer served is still remembered: SeenAge (48 h) outlasts MaxAge.
        Assert.Contains(tooOld.Id, snapshot.SeenIds);
    }

    [Fact]
    public void Load_keeps_only_the_newest_MaxPerAuthor_messages_of_each_author()
    {
        using SqliteGossipStore store = Open();
        var alice = new List<StoredMessage>();
        for (int i = 0; i < 5; i++)
        {
            alice.Add(Message((UInt128)(10 + i), "alice", i, own: false, Start.AddSeconds(i)));
        }

        // Two accepted in the same millisecond: the one stored later counts as newer.
        StoredMessage aliceTied = Message(20, "alice", 9, own: false, Start.AddSeconds(4));
        StoredMessage bob1 = Message(30, "bob", 1, own: false, Start.AddSeconds(1.5));
        StoredMessage bob2 = Message(31, "bob", 2, own: false, Start.AddSeconds(2.5));
        foreach (StoredMessage message in alice)
        {
            store.Add(message, durable: false);
        }

        store.Add(aliceTied, durable: false);
        store.Add(bob1, durable: false);
        store.Add(bob2, durable: false);

        GossipStoreSnapshot snapshot = store.Load(Start.AddMinutes(1), new GossipRetention { MaxPerAuthor = 3 });
        AssertMessages([bob1, bob2, alice[3], alice[4], aliceTied], snapshot.Retained);
        Assert.Equal(8, snapshot.SeenIds.Count);
    }

    [Fact]
    public void Load_forgets_ids_whose_SeenAge_has_passed()
    {
        var retention = new GossipRetention { MaxAge = TimeSpan.FromHours(1), SeenAge = TimeSpan.FromHours(2) };
        StoredMessage early = Message(1, "alice", 1, own: false, Start);
        StoredMessage later = Message(2, "alice", 2, own: false, Start.AddMinutes(30));
        using (SqliteGossipStore store = Open())
        {
            store.Load(Start, retention);
            store.Add(early, durable: false);
            store.Add(later, durable: false);
        }

        using SqliteGossipStore reopened = Open();
        GossipStoreSnapshot snapshot = reopened.Load(Start.AddHours(2), retention);
        Assert.Empty(snapshot.Retained);
        Assert.Equal([later.Id], snapshot.SeenIds);
        Assert.Equal(1, CountRows("SELECT count(*) FROM seen"));

        Assert.Empty(reopened.Load(Start.AddHours(3), retention).SeenIds);
        Assert.Equal(0, CountRows("SELECT count(*) FROM seen"));
    }

    [Fact]
    public void Retained_messages_are_among_the_seen_ids_even_when_SeenAge_is_shorter_than_MaxAge()
    {
        var retention = new GossipRetention { MaxAge = TimeSpan.FromHours(24), SeenAge = TimeSpan.FromHours(1) };
        using SqliteGossipStore store = Open();
        store.Load(Start, retention);
        StoredMessage message = Message(1, "alice", 1, own: false, Start);
        store.Add(message, durable: true);

        GossipStoreSnapshot snapshot = store.Load(Start.AddHours(2), retention);
        AssertMessages([message], snapshot.Retained);
        Assert.Equal([message.Id], snapshot.SeenIds);
    }

    [Fact]
    public void A_durable_write_is_visible_to_another_connection_at_once_and_leaves_the_batch_to_Flush()
    {
        using SqliteGossipStore store = Open();
        store.Load(Start, new GossipRetention());
        store.Add(Message(1, "alice", 1, own: false, Start), durable: false);
        Assert.Equal(0, CountRows("SELECT count(*) FROM messages"));

        // The batch is the node's group commit: received ids are committed when the node delivers them, not earlier
        // (an id committed before its delivery would be lost to the application by a crash in between).
        store.Add(Message(2, "me", 0, own: true, Start), durable: true);
        Assert.Equal("wal", Query("PRAGMA journal_mode"));
        Assert.Equal(1, CountRows("SELECT count(*) FROM messages"));
        Assert.Equal(1, CountRows("SELECT value FROM meta WHERE key = 'next_seq'"));

        store.Flush();
        Assert.Equal(2, CountRows("SELECT count(*) FROM messages"));
        Assert.Equal(2, CountRows("SELECT count(*) FROM seen"));
    }

    [Fact]
    public void A_batched_write_is_committed_once_the_clock_passes_FlushInterval()
    {
        var retention = new GossipRetention { FlushInterval = TimeSpan.FromSeconds(1) };
        using SqliteGossipStore store = Open();
        store.Load(Start, retention);
        store.Add(Message(1, "alice", 1, own: false, Start), durable: false);
        store.Add(Message(2, "alice", 2, own: false, Start), durable: false);

        _clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(0, CountRows("SELECT count(*) FROM messages"));

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, CountRows("SELECT count(*) FROM messages"));
        Assert.Equal(2, CountRows("SELECT count(*) FROM seen"));

        // The timer is armed again by the next batched write, not left ticking.
        store.Add(Message(3, "alice", 3, own: false, Start), durable: false);
        Assert.Equal(2, CountRows("SELECT count(*) FROM messages"));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(3, CountRows("SELECT count(*) FROM messages"));
    }

    [Fact]
    public void Without_Load_batches_use_the_default_FlushInterval_and_Flush_commits_at_once()
    {
        using SqliteGossipStore store = Open();
        store.Add(Message(1, "alice", 1, own: false, Start), durable: false);
        store.Flush();
        Assert.Equal(1, CountRows("SELECT count(*) FROM messages"));

        store.Add(Message(2, "alice", 2, own: false, Start), durable: false);
        _clock.Advance(new GossipRetention().FlushInterval);
        Assert.Equal(2, CountRows("SELECT count(*) FROM messages"));
    }

    [Fact]
    public void A_duplicate_id_is_ignored_and_the_first_copy_kept()
    {
        StoredMessage first = Message(1, "alice", 1, own: false, Start);
        StoredMessage again = first with { Sequence = 2, AcceptedAt = Start.AddSeconds(1), Line = "other"u8.ToArray() };
        using SqliteGossipStore store = Open();
        store.Load(Start, new GossipRetention());
        store.Add(first, durable: false);
        store.Add(again, durable: false);
        store.Add(first, durable: true);
        store.Add(again, durable: true);

        GossipStoreSnapshot snapshot = store.Load(Start.AddMinutes(1), new GossipRetention());
        AssertMessages([first], snapshot.Retained);
        Assert.Equal([first.Id], snapshot.SeenIds);
        Assert.Equal(1, CountRows("SELECT count(*) FROM seen"));
    }

    [Fact]
    public void A_file_that_is_not_SQLite_is_refused_with_its_path()
    {
        File.WriteAllText(StorePath, new string('x', 4096));
        var e = Assert.Throws<InvalidOperationException>(() => Open());
        Assert.Contains(StorePath, e.Message, StringComparison.Ordinal);

        // Nothing was left open on it.
        File.Delete(StorePath);
    }

    [Fact]
    public void A_store_written_by_a_newer_version_is_refused_with_its_path()
    {
        using (var connection = new SqliteConnection(ConnectionString(SqliteOpenMode.ReadWriteCreate)))
        {
            connection.Open();
            using SqliteCommand command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99";
            command.ExecuteNonQuery();
        }

        var e = Assert.Throws<InvalidOperationException>(() => Open());
        Assert.Contains(StorePath, e.Message, StringComparison.Ordinal);
        Assert.Contains("99", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_SQLite_file_of_another_application_is_refused_rather_than_written_into()
    {
        using (var connection = new SqliteConnection(ConnectionString(SqliteOpenMode.ReadWriteCreate)))
        {
            connection.Open();
            using SqliteCommand command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE messages (subject TEXT)";
            command.ExecuteNonQuery();
        }

        var e = Assert.Throws<InvalidOperationException>(() => Open());
        Assert.Contains(StorePath, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_store_cannot_be_used_after_Dispose()
    {
        SqliteGossipStore store = Open();
        store.Dispose();
        store.Dispose();
        Assert.Throws<ObjectDisposedException>(() => store.Add(Message(1, "alice", 1, own: false, Start), durable: true));
        Assert.Throws<ObjectDisposedException>(() => store.Load(Start, new GossipRetention()));

        // A timer that fires after disposal finds nothing to do.
        _clock.Advance(TimeSpan.FromSeconds(1));
    }

    private SqliteGossipStore Open() => new(StorePath, _clock);

    private string ConnectionString(SqliteOpenMode mode) =>
        new SqliteConnectionStringBuilder { DataSource = StorePath, Mode = mode, Pooling = false }.ToString();

    private long CountRows(string sql) => Query(sql) is long count ? count : 0;

    /// <summary>Reads through a connection of its own, so only committed rows count.</summary>
    private object? Query(string sql)
    {
        using var connection = new SqliteConnection(ConnectionString(SqliteOpenMode.ReadWrite));
        connection.Open();
        using SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static StoredMessage Message(UInt128 id, string author, double sequence, bool own, DateTimeOffset acceptedAt) =>
        new(id, author, sequence, own, acceptedAt, Encoding.UTF8.GetBytes($"{{\"public\":\"{author}\",\"seq\":{sequence},\"id\":\"{id}\"}}"));

    private static void AssertMessages(IReadOnlyList<StoredMessage> expected, IReadOnlyList<StoredMessage> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Id, actual[i].Id);
            Assert.Equal(expected[i].Author, actual[i].Author);
            Assert.Equal(expected[i].Sequence, actual[i].Sequence);
            Assert.Equal(expected[i].Own, actual[i].Own);
            Assert.Equal(expected[i].AcceptedAt, actual[i].AcceptedAt);
            Assert.Equal(expected[i].Line, actual[i].Line);
        }
    }
}
