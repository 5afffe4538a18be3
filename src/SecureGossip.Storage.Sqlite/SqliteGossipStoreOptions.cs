namespace SecureGossip.Storage;

/// <summary>How a <see cref="SqliteGossipStore"/> commits.</summary>
public sealed record SqliteGossipStoreOptions
{
    /// <summary>
    /// Sync every commit to the disk before it returns (SQLite <c>synchronous=FULL</c>), so it survives a power loss
    /// or an operating-system crash, not only a crash of the process. Default false (<c>synchronous=NORMAL</c>): a
    /// commit costs a write to the log, no fsync, and survives kill -9 but not a power cut. With it, each group
    /// commit (and each publish) costs one fsync: measure it on your disk (BENCHMARKS.md).
    /// </summary>
    public bool FullSync { get; init; }
}
