namespace SecureGossip.Protocol.Core;

/// <summary>
/// The timer ids of one <see cref="PlumtreeProtocol"/>: two fixed ones (the <c>ihave</c> flush, the sync round), and
/// a fresh one for each one-shot task (a graft, a want, a drain of deferred answers), shared by the parts so that each
/// recognises its own when it fires. Timers cannot be cancelled (<see cref="IGossipContext.SetTimer"/>): a fresh id
/// per task is what lets a part ignore the timer of a task it has since dropped.
/// </summary>
internal sealed class TimerIds
{
    /// <summary>The batched lazy announcements are due.</summary>
    public const long IHave = 1;

    /// <summary>The retention sweep and the delta frontier are due.</summary>
    public const long Sync = 2;

    private long _next = 16; // ids below are reserved for fixed timers

    /// <summary>An id never handed out before.</summary>
    public long Next() => _next++;
}
