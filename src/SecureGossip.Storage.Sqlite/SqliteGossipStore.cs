using System.Buffers.Binary;
using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SecureGossip.Storage;

/// <summary>
/// An <see cref="IGossipStore"/> in one SQLite file: a node's own next seq, the messages it retains and the ids it
/// has seen survive a restart (docs/PROTOCOL.md §11.3).
/// </summary>
/// <remarks>
/// <para>What is durable when. <see cref="Add"/> with <c>durable</c> (the node's own messages) commits that message
/// alone before it returns. Other messages are batched in memory and committed
/// together at <see cref="Flush"/> (a node calls it before it delivers what it accepted: a group commit),
/// <see cref="GossipRetention.FlushInterval"/> after the first of them (a timer of the <see cref="TimeProvider"/>), at
/// <see cref="Load"/>, or at <see cref="Dispose"/>.</para>
/// <para>The file is in write-ahead-log mode. By default with <c>synchronous=NORMAL</c>: a commit survives the process
/// crashing, but the last commits before a power loss or operating-system crash may be rolled back (messages
/// delivered just before are then delivered again, and a seq published just before may be reused).
/// <see cref="SqliteGossipStoreOptions.FullSync"/> selects <c>synchronous=FULL</c>: every commit is synced to the disk
/// before it returns, so it survives power loss too, at the price of an fsync per commit.</para>
/// <para>The store owns one connection. Calls come from one thread at a time, as <see cref="IGossipStore"/>
/// says; the background commit of batched messages is serialized with them.</para>
/// </remarks>
public sealed class SqliteGossipStore : IGossipStore, IGossipPeerStore
{
    /// <summary>The layout this version writes and reads (<c>PRAGMA user_version</c>); 0 is a new file.</summary>
    private const int SchemaVersion = 1;

    /// <summary>
    /// Batched messages are committed at once when this many wait, so a burst within one flush interval costs
    /// bounded memory and one bounded transaction.
    /// </summary>
    private const int MaxBatch = 4096;

    /// <summary>Commits between two checkpoints of the write-ahead log (which keeps it to a few megabytes).</summary>
    private const int CommitsPerCheckpoint = 256;

    private int _commitsSinceCheckpoint;

    private const string Schema = """
        CREATE TABLE messages (
            id BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
            author TEXT NOT NULL,
            seq REAL NOT NULL,
            own INTEGER NOT NULL,
            accepted_at INTEGER NOT NULL,
            line BLOB NOT NULL);
        CREATE INDEX messages_by_author ON messages (author, accepted_at);
        CREATE INDEX messages_by_age ON messages (accepted_at);
        CREATE TABLE seen (
            id BLOB NOT NULL PRIMARY KEY CHECK (length(id) = 16),
            expires_at INTEGER NOT NULL) WITHOUT ROWID;
        CREATE INDEX seen_by_expiry ON seen (expires_at);
        CREATE TABLE meta (
            key TEXT NOT NULL PRIMARY KEY,
            value) WITHOUT ROWID;
        PRAGMA user_version = 1;
        """;

    private readonly ILogger _logger;
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _insertMessage;
    private readonly SqliteCommand _insertSeen;
    private readonly SqliteCommand _raiseNextSequence;
    private readonly ITimer _flushTimer;
    private readonly SqliteGossipStoreOptions _options;
    private readonly Lock _gate = new();
    private readonly List<StoredMessage> _batch = [];
    private readonly byte[] _id = new byte[16];
    private GossipRetention _retention = new();
    private bool _flushArmed;
    private bool _disposed;

    /// <summary>Opens the store at <paramref name="path"/>, creating the file and its tables if missing.</summary>
    /// <param name="path">The SQLite file. Its <c>-wal</c> and <c>-shm</c> companions appear beside it while open.</param>
    /// <param name="timeProvider">The clock of the batch commit timer (<see cref="TimeProvider.System"/> when null).</param>
    /// <param name="loggerFactory">Where the store logs its loads and any failed batch commit.</param>
    /// <exception cref="InvalidOperationException">
    /// The file cannot be opened, is not a SQLite database or not a gossip store, is corrupt, or was written by a
    /// newer version of this package; the message names the file.
    /// </exception>
    public SqliteGossipStore(string path, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
        : this(path, new SqliteGossipStoreOptions(), timeProvider, loggerFactory)
    {
    }

    /// <summary>Opens the store at <paramref name="path"/> with <paramref name="options"/>, creating the file if missing.</summary>
    /// <param name="path">The SQLite file. Its <c>-wal</c> and <c>-shm</c> companions appear beside it while open.</param>
    /// <param name="options">How durable a commit is.</param>
    /// <param name="timeProvider">The clock of the batch commit timer (<see cref="TimeProvider.System"/> when null).</param>
    /// <param name="loggerFactory">Where the store logs its loads and any failed batch commit.</param>
    /// <exception cref="InvalidOperationException">
    /// The file cannot be opened, is not a SQLite database or not a gossip store, is corrupt, or was written by a
    /// newer version of this package; the message names the file.
    /// </exception>
    public SqliteGossipStore(string path, SqliteGossipStoreOptions options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        Path = System.IO.Path.GetFullPath(path);
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<SqliteGossipStore>();

        // Without pooling, Dispose really closes the file, so it can be reopened, moved or deleted at once.
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString();
        _connection = new SqliteConnection(connectionString);
        try
        {
            _connection.Open();
            if (Initialize())
            {
                SqliteStoreLog.Created(_logger, Path);
            }

            _insertMessage = Prepare(
                "INSERT OR IGNORE INTO messages (id, author, seq, own, accepted_at, line) VALUES ($id, $author, $seq, $own, $accepted_at, $line)",
                ("$id", SqliteType.Blob), ("$author", SqliteType.Text), ("$seq", SqliteType.Real), ("$own", SqliteType.Integer),
                ("$accepted_at", SqliteType.Integer), ("$line", SqliteType.Blob));
            _insertSeen = Prepare(
                "INSERT OR IGNORE INTO seen (id, expires_at) VALUES ($id, $expires_at)",
                ("$id", SqliteType.Blob), ("$expires_at", SqliteType.Integer));

            // max(): next_seq never goes down, whatever order own messages arrive in and whatever retention prunes.
            _raiseNextSequence = Prepare(
                "INSERT INTO meta (key, value) VALUES ('next_seq', $next) ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)",
                ("$next", SqliteType.Integer));
        }
        catch (SqliteException e)
        {
            _connection.Dispose();
            throw new InvalidOperationException($"Cannot open the gossip store '{Path}': {e.Message}", e);
        }
        catch
        {
            _connection.Dispose();
            throw;
        }

        _flushTimer = (timeProvider ?? TimeProvider.System).CreateTimer(
            static state => ((SqliteGossipStore)state!).FlushOnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The full path of the SQLite file.</summary>
    public string Path { get; }

    /// <inheritdoc/>
    /// <remarks>
    /// Commits batched messages first, then deletes messages accepted more than <see cref="GossipRetention.MaxAge"/>
    /// before <paramref name="now"/>, all but the newest <see cref="GossipRetention.MaxPerAuthor"/> of each author,
    /// and ids whose <see cref="GossipRetention.SeenAge"/> has passed, in one transaction. Ids added from now on are
    /// kept for this <paramref name="retention"/>'s <see cref="GossipRetention.SeenAge"/> and batched messages are
    /// committed within its <see cref="GossipRetention.FlushInterval"/>; ids stored earlier keep the expiry they
    /// were stored with. <see cref="StoredMessage.AcceptedAt"/> comes back to the millisecond.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The file is corrupt; the message names it.</exception>
    public GossipStoreSnapshot Load(DateTimeOffset now, GossipRetention retention)
    {
        ArgumentNullException.ThrowIfNull(retention);
        Validate(retention);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                CommitLocked(null);
                _retention = retention;
                return LoadLocked(now.ToUnixTimeMilliseconds(), retention);
            }
            catch (SqliteException e) when (IsCorrupt(e))
            {
                throw Corrupt(e);
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// An id already stored is ignored, message and seen id alike (the first copy stays). The store keeps
    /// <see cref="StoredMessage.Line"/> by reference until it is committed: do not change the array after the call.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">An own message's seq is not a whole number from 0 to 2^53.</exception>
    /// <exception cref="SqliteException">A durable write could not be committed (disk full, I/O error): the message
    /// is not stored; the batch committed with it stays batched and is retried.</exception>
    /// <exception cref="InvalidOperationException">The file is corrupt; the message names it.</exception>
    public void Add(StoredMessage message, bool durable)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(message.Author, nameof(message));
        ArgumentNullException.ThrowIfNull(message.Line, nameof(message));
        if (message.Own && !(double.IsInteger(message.Sequence) && message.Sequence is >= 0 and <= 9007199254740992))
        {
            throw new ArgumentOutOfRangeException(nameof(message), message.Sequence, "An own message's seq must be a whole number from 0 to 2^53.");
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                if (durable)
                {
                    CommitLocked(message, includeBatch: false);
                    return;
                }

                if (_batch.Count + 1 >= MaxBatch)
                {
                    CommitLocked(message, includeBatch: true);
                    return;
                }

                _batch.Add(message);
                ArmFlushLocked();
            }
            catch (SqliteException e) when (IsCorrupt(e))
            {
                throw Corrupt(e);
            }
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> LoadPeers()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using SqliteCommand command = _connection.CreateCommand();
            command.CommandText = "SELECT value FROM meta WHERE key = 'peers'";
            if (command.ExecuteScalar() is not string json)
            {
                return [];
            }

            try
            {
                return System.Text.Json.JsonSerializer.Deserialize<string[]>(json) ?? [];
            }
            catch (System.Text.Json.JsonException)
            {
                return []; // peers are a hint: a damaged list is forgotten, the node joins through its bootstrap
            }
        }
    }

    /// <inheritdoc/>
    public void SavePeers(IReadOnlyList<string> peers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using SqliteCommand command = _connection.CreateCommand();
            command.CommandText = "INSERT INTO meta (key, value) VALUES ('peers', $peers) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
            command.Parameters.AddWithValue("$peers", System.Text.Json.JsonSerializer.Serialize(peers));
            command.ExecuteNonQuery();
        }
    }

    /// <inheritdoc/>
    /// <exception cref="SqliteException">The batch could not be committed (disk full, I/O error); it stays batched.</exception>
    /// <exception cref="InvalidOperationException">The file is corrupt; the message names it.</exception>
    public void Flush()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                CommitLocked(null);
            }
            catch (SqliteException e) when (IsCorrupt(e))
            {
                throw Corrupt(e);
            }
        }
    }

    /// <summary>Commits batched messages and closes the file.</summary>
    /// <exception cref="SqliteException">The batch could not be committed; the file is closed all the same.</exception>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _flushTimer.Dispose();
            try
            {
                CommitLocked(null);
            }
            finally
            {
                _insertMessage.Dispose();
                _insertSeen.Dispose();
                _raiseNextSequence.Dispose();
                _connection.Dispose();
            }
        }
    }

    /// <summary>Sets up a new file, or checks an existing one; true when the tables were created.</summary>
    private bool Initialize()
    {
        // journal_mode is the first statement to read the file, so a file that is not SQLite fails here.
        Execute("PRAGMA journal_mode = WAL");
        Execute(_options.FullSync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");

        // No checkpoint inside a commit: SQLite's automatic one runs after the commit is already durable, for
        // milliseconds, and a node that delivers right after its commit returns would have that long to be killed
        // with the ids recorded and the messages not yet delivered. The store checkpoints before a commit instead.
        Execute("PRAGMA wal_autocheckpoint = 0");

        // IMMEDIATE: two processes creating the same file at once do not both run the schema.
        using SqliteTransaction transaction = _connection.BeginTransaction(deferred: false);
        long version = (long)Scalar("PRAGMA user_version", transaction)!;
        if (version > SchemaVersion)
        {
            throw new InvalidOperationException(
                $"The gossip store '{Path}' has schema version {version}; this version of SecureGossip.Storage.Sqlite reads version {SchemaVersion} and older. Open it with a newer version.");
        }

        if (version == SchemaVersion)
        {
            return false;
        }

        // No IF NOT EXISTS: a SQLite file of some other application that happens to have a table of the same
        // name fails here instead of being written into.
        using (SqliteCommand create = _connection.CreateCommand())
        {
            create.Transaction = transaction;
            create.CommandText = Schema;
            create.ExecuteNonQuery();
        }

        transaction.Commit();
        return true;
    }

    private GossipStoreSnapshot LoadLocked(long now, GossipRetention retention)
    {
        using SqliteTransaction transaction = _connection.BeginTransaction(deferred: false);
        int tooOld = Execute(
            "DELETE FROM messages WHERE accepted_at < $cutoff",
            transaction, ("$cutoff", now - Milliseconds(retention.MaxAge)));
        int overLimit = Execute(
            """
            DELETE FROM messages WHERE rowid IN (
                SELECT rowid FROM (
                    SELECT rowid, row_number() OVER (PARTITION BY author ORDER BY accepted_at DESC, rowid DESC) AS newest
                    FROM messages)
                WHERE newest > $max)
            """,
            transaction, ("$max", retention.MaxPerAuthor));
        int expired = Execute("DELETE FROM seen WHERE expires_at <= $now", transaction, ("$now", now));

        long nextSequence = Scalar("SELECT value FROM meta WHERE key = 'next_seq'", transaction) is long stored ? stored : 0;

        var retained = new List<StoredMessage>();
        using (SqliteCommand select = _connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT id, author, seq, own, accepted_at, line FROM messages ORDER BY accepted_at, rowid";
            using SqliteDataReader reader = select.ExecuteReader();
            while (reader.Read())
            {
                retained.Add(new StoredMessage(
                    ReadId(reader),
                    reader.GetString(1),
                    reader.GetDouble(2),
                    reader.GetInt64(3) != 0,
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                    reader.GetFieldValue<byte[]>(5)));
            }
        }

        // The retained ones too, even if their seen row expired first (SeenAge shorter than MaxAge): a message
        // still served to peers must not be delivered again.
        var seen = new List<UInt128>();
        using (SqliteCommand select = _connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT id FROM seen UNION SELECT id FROM messages";
            using SqliteDataReader reader = select.ExecuteReader();
            while (reader.Read())
            {
                seen.Add(ReadId(reader));
            }
        }

        transaction.Commit();
        SqliteStoreLog.Loaded(_logger, Path, retained.Count, seen.Count, nextSequence, tooOld, overLimit, expired);
        return new GossipStoreSnapshot(nextSequence, retained, seen);
    }

    /// <summary>Commits the batch, and <paramref name="last"/> after it, in one transaction; the batch stays on failure.</summary>
    private void CommitLocked(StoredMessage? last, bool includeBatch = true)
    {
        Debug.Assert(_gate.IsHeldByCurrentThread);
        if ((_batch.Count == 0 || !includeBatch) && last is null)
        {
            return;
        }

        if (++_commitsSinceCheckpoint >= CommitsPerCheckpoint)
        {
            _commitsSinceCheckpoint = 0;
            Execute("PRAGMA wal_checkpoint(PASSIVE)"); // before the commit: nothing is durable-but-unreported meanwhile
        }

        using (SqliteTransaction transaction = _connection.BeginTransaction(deferred: false))
        {
            _insertMessage.Transaction = transaction;
            _insertSeen.Transaction = transaction;
            _raiseNextSequence.Transaction = transaction;
            long seenAge = Milliseconds(_retention.SeenAge);
            if (includeBatch)
            {
                foreach (StoredMessage message in _batch)
                {
                    Insert(message, seenAge);
                }
            }

            if (last is not null)
            {
                Insert(last, seenAge);
            }

            transaction.Commit();
        }

        if (includeBatch)
        {
            _batch.Clear();
        }
    }

    private void Insert(StoredMessage message, long seenAge)
    {
        BinaryPrimitives.WriteUInt128LittleEndian(_id, message.Id);
        long acceptedAt = message.AcceptedAt.ToUnixTimeMilliseconds();

        SqliteParameterCollection p = _insertMessage.Parameters;
        p[0].Value = _id;
        p[1].Value = message.Author;
        p[2].Value = message.Sequence;
        p[3].Value = message.Own ? 1L : 0L;
        p[4].Value = acceptedAt;
        p[5].Value = message.Line;
        _insertMessage.ExecuteNonQuery();

        p = _insertSeen.Parameters;
        p[0].Value = _id;
        p[1].Value = acceptedAt + seenAge;
        _insertSeen.ExecuteNonQuery();

        if (message.Own)
        {
            _raiseNextSequence.Parameters[0].Value = (long)message.Sequence + 1;
            _raiseNextSequence.ExecuteNonQuery();
        }
    }

    private void ArmFlushLocked()
    {
        if (!_flushArmed && _retention.FlushInterval != Timeout.InfiniteTimeSpan)
        {
            _flushArmed = true;
            _flushTimer.Change(_retention.FlushInterval, Timeout.InfiniteTimeSpan);
        }
    }

    private void FlushOnTimer()
    {
        lock (_gate)
        {
            _flushArmed = false;
            if (_disposed)
            {
                return;
            }

            try
            {
                CommitLocked(null);
            }
            catch (SqliteException e)
            {
                // Nobody to throw to: log, keep the batch, and try again an interval later.
                SqliteStoreLog.BatchCommitFailed(_logger, Path, _batch.Count, e);
                ArmFlushLocked();
            }
        }
    }

    private SqliteCommand Prepare(string sql, params ReadOnlySpan<(string Name, SqliteType Type)> parameters)
    {
        SqliteCommand command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach ((string name, SqliteType type) in parameters)
        {
            command.Parameters.Add(name, type);
        }

        command.Prepare();
        return command;
    }

    private int Execute(string sql, SqliteTransaction? transaction = null, params ReadOnlySpan<(string Name, object Value)> parameters)
    {
        using SqliteCommand command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach ((string name, object value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command.ExecuteNonQuery();
    }

    private object? Scalar(string sql, SqliteTransaction transaction)
    {
        using SqliteCommand command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private UInt128 ReadId(SqliteDataReader reader)
    {
        long length = reader.GetBytes(0, 0, _id, 0, _id.Length);
        Debug.Assert(length == 16, "the schema's CHECK keeps ids at 16 bytes");
        return BinaryPrimitives.ReadUInt128LittleEndian(_id);
    }

    private static long Milliseconds(TimeSpan span) => span.Ticks / TimeSpan.TicksPerMillisecond;

    private static void Validate(GossipRetention retention)
    {
        if (retention.MaxAge < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(retention), retention.MaxAge, "MaxAge must not be negative.");
        }

        if (retention.MaxPerAuthor < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(retention), retention.MaxPerAuthor, "MaxPerAuthor must not be negative.");
        }

        if (retention.SeenAge < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(retention), retention.SeenAge, "SeenAge must not be negative.");
        }

        if (retention.FlushInterval <= TimeSpan.Zero && retention.FlushInterval != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(retention), retention.FlushInterval, "FlushInterval must be positive, or Timeout.InfiniteTimeSpan to commit batches only at Flush and Dispose.");
        }
    }

    // SQLITE_CORRUPT and SQLITE_NOTADB: the file is damaged, not the disk full or busy.
    private static bool IsCorrupt(SqliteException e) => e.SqliteErrorCode is 11 or 26;

    private InvalidOperationException Corrupt(SqliteException e) =>
        new($"The gossip store '{Path}' is corrupt: {e.Message}", e);
}
