namespace SecureGossip.Protocol.Core;

/// <summary>
/// Counters and table sizes of one <see cref="PlumtreeProtocol"/> (docs/PROTOCOL.md §16a, per-link limits), for a
/// driver to surface. Counters only grow; sizes are as of the moment they were read.
/// </summary>
/// <param name="IdsIgnoredOverBudget">Announced or frontier-listed ids left alone because a neighbour's budget or table share was spent.</param>
/// <param name="WantsSent">Ids asked of neighbours, in grafts and wants.</param>
/// <param name="WantsDeferred">Grafts put off because the neighbour's want budget was spent.</param>
/// <param name="ResponsesDeferred">Answers to grafts and wants queued because the asker's response budget was spent.</param>
/// <param name="ResponsesDropped">Answers not sent because the asker's queue of deferred answers was full.</param>
/// <param name="FramesIgnored">Frames ignored whole: a control frame naming an author past the neighbour's share of new authors, or a <c>msg</c> frame of a message the core does not know (only its driver accepts messages).</param>
/// <param name="NeighboursReported">Reports made through <see cref="IGossipContext.Misbehaved"/>.</param>
/// <param name="MissingIds">Ids announced and not yet received (bounded by <see cref="PlumtreeOptions.MaxMissing"/>).</param>
/// <param name="PendingWants">Ids wanted after deltas, queued or sent, not yet settled.</param>
/// <param name="TrackedAuthors">Authors the core keeps any per-author state for.</param>
/// <param name="IntroducedAuthors">Authors the core keeps state for only because a neighbour's unsigned frames named them.</param>
/// <param name="DeferredResponses">Answers queued for response budget, over all neighbours.</param>
/// <param name="RetainedMessages">Messages retained to answer grafts, wants and late joiners.</param>
public readonly record struct PlumtreeStatistics(
    long IdsIgnoredOverBudget,
    long WantsSent,
    long WantsDeferred,
    long ResponsesDeferred,
    long ResponsesDropped,
    long FramesIgnored,
    long NeighboursReported,
    int MissingIds,
    int PendingWants,
    int TrackedAuthors,
    int IntroducedAuthors,
    int DeferredResponses,
    int RetainedMessages = 0);
