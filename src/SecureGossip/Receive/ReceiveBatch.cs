using SecureGossip.Engine;

namespace SecureGossip.Receive;

/// <summary>
/// The messages one read loop has prepared and not yet handed to the actor. They go together, as one work item, when
/// the batch is full, when the loop is about to wait (for bytes, or for room in the receive window), and before
/// anything else the loop posts (a hello), so the actor is woken once per read rather than once per line or frame and
/// still takes everything from a link in the order it arrived.
/// </summary>
/// <remarks>Belongs to one read loop: no lock.</remarks>
internal sealed class ReceiveBatch(NodeActor actor)
{
    /// <summary>The most messages in one batch: enough to spare wake-ups, few enough that verification starts soon.</summary>
    public const int MaxMessages = 32;

    private MessageBatchWork? _pending;

    /// <summary>
    /// Takes <paramref name="job"/>, a message (<see cref="VerifyJob"/>) or a control frame (<see cref="ControlWork"/>):
    /// it is the batch's from here on, whatever happens to the actor.
    /// </summary>
    public bool Add(NodeWork job)
    {
        _pending ??= actor.RentBatch();
        _pending.Jobs.Add(job);
        if (_pending.Jobs.Count >= MaxMessages)
        {
            Flush();
        }

        return true;
    }

    /// <summary>Hands what is pending to the actor (if it has stopped, the messages are let go as dropped work).</summary>
    public void Flush()
    {
        if (_pending is not { } work)
        {
            return;
        }

        _pending = null;
        if (!actor.Post(work))
        {
            actor.Discard(work);
        }
    }
}
