namespace SecureGossip.Protocol.Core;

/// <summary>
/// What one neighbour may cost this node while its link is up (docs/PROTOCOL.md §16a, per-link limits): its
/// announcement, want and response budgets, the wants outstanding to it, the answers deferred for it, and the
/// authors its unsigned frames introduced. Replaced by a fresh one when the link goes down, so nothing of a
/// neighbour outlives its link.
/// </summary>
internal sealed class NeighbourBudget(PlumtreeOptions options)
{
    /// <summary>Unknown ids announced (<c>ihave</c>) per second.</summary>
    public TokenBucket Announcements { get; } = new(options.IHaveRate);

    /// <summary>Ids asked of the neighbour (grafts and wants) per second.</summary>
    public TokenBucket Wants { get; } = new(options.WantRate);

    /// <summary>Messages sent in answer to its grafts and wants per second.</summary>
    public TokenBucket Responses { get; } = new(options.ResponseRate);

    /// <summary>Grafts it left unanswered (a broken promise: it announced the id) per second.</summary>
    public TokenBucket BrokenPromises { get; } = new(Math.Max(1, options.MaxWantsPerNeighbour / 4));

    /// <summary>
    /// Set once it broke more than a quarter of <see cref="PlumtreeOptions.MaxWantsPerNeighbour"/> promises in a second:
    /// its announcements of unknown ids are ignored and it is grafted no more for the rest of the link session.
    /// </summary>
    public bool Unreliable { get; set; }

    /// <summary>Missing ids this neighbour is recorded as an announcer of.</summary>
    public int MissingAnnounced { get; set; }

    /// <summary>Ids asked of this neighbour (a graft or want sent, or a want queued) and not yet settled.</summary>
    public int WantsOutstanding { get; set; }

    /// <summary>Answers to its grafts and wants waiting for response tokens, oldest first.</summary>
    public Queue<(MessageId Id, PlumtreeSendKind Kind)> Deferred { get; } = new();

    /// <summary>Whether a timer to send <see cref="Deferred"/> answers is set.</summary>
    public bool DrainScheduled { get; set; }

    /// <summary>Authors this neighbour's unsigned frames made the core keep state for (null: none yet).</summary>
    public HashSet<int>? Introduced { get; set; }

    /// <summary>The reasons already reported for this link session (one report per reason).</summary>
    public HashSet<string>? Reported { get; set; }
}
