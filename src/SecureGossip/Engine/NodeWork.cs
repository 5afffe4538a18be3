using SecureGossip.Links;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Engine;

/// <summary>
/// One item of work for a node's <see cref="NodeActor"/>, the single owner of its protocol state. Everything that
/// changes that state — a message, a control frame, a link's hello or end, a timer, a publish, a round — arrives as
/// one of these, in order, on one channel.
/// </summary>
internal abstract class NodeWork
{
}

/// <summary>Messages one read loop prepared, in the order they arrived (<see cref="Receive.ReceiveBatch"/>).</summary>
internal sealed class MessageBatchWork : NodeWork
{
    /// <summary>In arrival order: messages (<see cref="Receive.VerifyJob"/>) and the control frames between them (<see cref="ControlWork"/>).</summary>
    public List<NodeWork> Jobs { get; } = new(Receive.ReceiveBatch.MaxMessages);
}

/// <summary>A link is up (version 1 at connect) or said hello (version 2).</summary>
internal sealed class LinkUpWork(PeerLink link, int version) : NodeWork
{
    public PeerLink Link { get; } = link;

    public int Version { get; } = version;
}

/// <summary>A link ended.</summary>
internal sealed class LinkDownWork(PeerLink link) : NodeWork
{
    public PeerLink Link { get; } = link;
}

/// <summary>v1 lines a link took in a round and never wrote: back to the flood's store.</summary>
internal sealed class RequeueWork(List<byte[]> lines) : NodeWork
{
    public List<byte[]> Lines { get; } = lines;
}

/// <summary>A v2 control frame (anything but a message) from a link.</summary>
internal sealed class ControlWork(PeerLink link, IGossipFrame frame) : NodeWork
{
    public PeerLink Link { get; } = link;

    public IGossipFrame Frame { get; } = frame;
}

/// <summary>The node's one runtime timer fired: the engine's timers that are due run on the actor.</summary>
internal sealed class TimerWork : NodeWork
{
    /// <summary>The node's runtime timer fired: the engine's timers that are due run (<see cref="NodeEngineContext.TakeDueTimers"/>).</summary>
    public static readonly TimerWork Due = new();

    private TimerWork()
    {
    }
}

/// <summary>The node published a message: its id and signed line, and its record for the store.</summary>
internal sealed class PublishWork(MessageId id, byte[] line, Storage.StoredMessage? record) : NodeWork
{
    public MessageId Id { get; } = id;

    public byte[] Line { get; } = line;

    /// <summary>What the store keeps of it (null without a store).</summary>
    public Storage.StoredMessage? Record { get; } = record;
}

/// <summary>A v1 flood round (the node's interval timer, or <see cref="GossipNode.Gossip"/>).</summary>
internal sealed class RoundWork : NodeWork
{
    public static readonly RoundWork Instance = new();
}

/// <summary><see cref="GossipLinkOptions.HelloTimeout"/> passed since a link connected.</summary>
internal sealed class HelloTimeoutWork(PeerLink link) : NodeWork
{
    public PeerLink Link { get; } = link;
}

/// <summary>Completes when everything queued before it has been committed and delivered.</summary>
internal sealed class BarrierWork : NodeWork
{
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A verification finished: the actor looks at the head of its commit queue again.</summary>
internal sealed class WakeWork : NodeWork
{
    public static readonly WakeWork Instance = new();
}

/// <summary>Reads the engine's state on the actor (tests, statistics).</summary>
internal sealed class InspectWork(Action<GossipEngine> inspect) : NodeWork
{
    public Action<GossipEngine> Inspect { get; } = inspect;

    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>The node is stopping: everything before this is committed and delivered, nothing after it.</summary>
internal sealed class StopWork : NodeWork
{
}
