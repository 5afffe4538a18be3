using SecureGossip.Protocol.Core;

namespace SecureGossip.Engine;

/// <summary>
/// Conditions on a node that tests await instead of polling (the node's internal test hooks). A condition is checked
/// on the <see cref="NodeActor"/> when it is registered and again each time the actor has taken in and committed what
/// was posted to it. Every link up, hello and link down is posted to the actor after the link registry changed, and
/// every control frame, message and duplicate passes through it (a read loop that drops a copy it knows old pokes it:
/// <see cref="Poke"/>), so a condition on any of those is seen to hold as
/// soon as it does, without a clock.
/// </summary>
/// <remarks>Everything here belongs to the actor, except <see cref="Poke"/>: no lock.</remarks>
internal sealed class NodeFacts
{
    private readonly List<(Func<bool> Holds, TaskCompletionSource Done)> _waiters = [];

    // Links whose peer's first full frontier the engine has taken in (docs/PROTOCOL.md §9.2): from then on such a
    // link carries live traffic only. A link's id leaves with the link.
    private readonly HashSet<int> _synced = [];

    // How many conditions wait (written by the actor, read by read loops to decide whether to wake it).
    private int _waiting;

    /// <summary>Whether the engine has taken in the first full frontier of the peer on <paramref name="link"/>.</summary>
    public bool IsSynced(int link) => _synced.Contains(link);

    /// <summary>Completes <paramref name="done"/> once <paramref name="holds"/> is true (now, or after later work).</summary>
    public void Add(Func<bool> holds, TaskCompletionSource done)
    {
        Interlocked.Exchange(ref _waiting, 1); // before the check: a read loop counting a drop after it sees the mark
        if (!Completes(holds, done))
        {
            _waiters.Add((holds, done));
        }

        Volatile.Write(ref _waiting, _waiters.Count);
    }

    /// <summary>
    /// Something changed off the actor (a read loop dropped a copy it knew old): the actor is woken to check the
    /// conditions, if any are waiting. Call after the change (a counter bumped with a full fence).
    /// </summary>
    public void Poke(NodeActor actor)
    {
        if (Volatile.Read(ref _waiting) != 0)
        {
            actor.Post(WakeWork.Instance);
        }
    }

    /// <summary>The engine took in <paramref name="frame"/> from <paramref name="link"/>.</summary>
    public void Control(int link, IGossipFrame frame)
    {
        if (frame is PlumtreeSync { Full: true })
        {
            _synced.Add(link);
        }
    }

    public void LinkDown(int link) => _synced.Remove(link);

    /// <summary>Checks every waiting condition (the actor calls this after each batch of work).</summary>
    public void Check()
    {
        if (_waiters.Count == 0)
        {
            return;
        }

        _waiters.RemoveAll(w => Completes(w.Holds, w.Done));
        Volatile.Write(ref _waiting, _waiters.Count);
    }

    private static bool Completes(Func<bool> holds, TaskCompletionSource done)
    {
        try
        {
            if (!holds())
            {
                return false;
            }

            done.TrySetResult();
        }
        catch (Exception e)
        {
            done.TrySetException(e); // a condition that throws fails its waiter, never the actor
        }

        return true;
    }
}
