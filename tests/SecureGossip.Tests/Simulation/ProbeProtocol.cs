using SecureGossip.Simulation;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Tests.Simulation;

/// <summary>A protocol that logs every event it is fed and does what its hooks say.</summary>
internal sealed class ProbeProtocol : IGossipProtocol
{
    public List<(TimeSpan Time, string Event)> Log { get; } = [];

    public Action<IGossipContext>? OnStart { get; init; }

    public Action<IGossipContext, MessageId>? OnPublish { get; init; }

    public Action<IGossipContext, int, IGossipFrame>? OnFrame { get; init; }

    public Action<IGossipContext, long>? OnTimer { get; init; }

    public void Start(IGossipContext context)
    {
        Log.Add((context.Now, "start"));
        OnStart?.Invoke(context);
    }

    public void Publish(IGossipContext context, MessageId message, int payloadBytes)
    {
        Log.Add((context.Now, $"publish {message.Author}/{message.Sequence} {payloadBytes}"));
        OnPublish?.Invoke(context, message);
    }

    public void FrameReceived(IGossipContext context, int fromNeighbour, IGossipFrame frame)
    {
        Log.Add((context.Now, $"frame {fromNeighbour} {frame}"));
        OnFrame?.Invoke(context, fromNeighbour, frame);
    }

    public void Timer(IGossipContext context, long timerId)
    {
        Log.Add((context.Now, $"timer {timerId}"));
        OnTimer?.Invoke(context, timerId);
    }

    public void NeighbourUp(IGossipContext context, int neighbour) => Log.Add((context.Now, $"up {neighbour}"));

    public void NeighbourDown(IGossipContext context, int neighbour) => Log.Add((context.Now, $"down {neighbour}"));
}

/// <summary>A frame for the probe: an index to tell frames apart.</summary>
internal sealed record ProbeFrame(int Index, int PayloadCount = 0, int SizeBytes = 10) : IGossipFrame
{
    public override string ToString() => $"#{Index}";
}

/// <summary>An <see cref="IGossipContext"/> that records the actions of one protocol call, for unit tests of a protocol.</summary>
internal sealed class RecordingContext(int self) : IGossipContext
{
    public int Self { get; } = self;

    public TimeSpan Now { get; set; }

    public Random Random { get; } = new(1);

    public List<(int Neighbour, IGossipFrame Frame)> Sent { get; } = [];

    public List<(TimeSpan Delay, long Id)> Timers { get; } = [];

    public List<(MessageId Message, int Hops)> Delivered { get; } = [];

    public int Verifies { get; private set; }

    public void Send(int neighbour, IGossipFrame frame) => Sent.Add((neighbour, frame));

    public void SetTimer(TimeSpan delay, long timerId) => Timers.Add((delay, timerId));

    public void Deliver(MessageId message, int hops) => Delivered.Add((message, hops));

    public void CountVerify() => Verifies++;
}
