using Microsoft.Extensions.Logging;

namespace SecureGossip.Storage;

internal static partial class SqliteStoreLog
{
    [LoggerMessage(301, LogLevel.Information, "Created gossip store {Path}")]
    public static partial void Created(ILogger logger, string path);

    [LoggerMessage(302, LogLevel.Debug, "Loaded gossip store {Path}: {Retained} messages retained, {Seen} ids seen, next seq {NextSequence}; dropped {TooOld} messages past their age, {OverLimit} past the per-author limit and {Expired} expired ids")]
    public static partial void Loaded(ILogger logger, string path, int retained, int seen, long nextSequence, int tooOld, int overLimit, int expired);

    [LoggerMessage(303, LogLevel.Error, "Committing {Count} batched messages to gossip store {Path} failed; retrying after the flush interval")]
    public static partial void BatchCommitFailed(ILogger logger, string path, int count, Exception exception);
}
