using SecureGossip.Protocol.Core;
using SecureGossip.Simulation;

namespace SecureGossip.Harness;

/// <summary>
/// Notes the virtual time of every delivery in a simulated run, so deliveries can be plotted against the time
/// since each message's own publish. The simulator's <c>delivery_curve</c> counts from the run's first publish:
/// for 1,000 messages published 10 ms apart it mostly traces the publishing schedule.
/// </summary>
/// <remarks>
/// It runs the registered protocol under the name <c>NAME.recorded</c>: each node's state is the registered
/// one, called through this context, which notes <see cref="IGossipContext.Deliver"/> and passes every call on
/// unchanged. The same options give the same run; the harness checks its counters against a plain run.
/// Single-threaded, like the simulator: one recorder serves every node because calls never overlap.
/// </remarks>
internal sealed class DeliveryRecorder : IGossipContext
{
    private static readonly Lock Gate = new();
    private static DeliveryRecorder? s_current;

    private readonly List<(MessageId Message, TimeSpan At)> _deliveries = [];
    private IGossipContext _inner = null!;

    private DeliveryRecorder()
    {
    }

    public int Self => _inner.Self;

    public TimeSpan Now => _inner.Now;

    public Random Random => _inner.Random;

    /// <summary>
    /// Runs the options <paramref name="options"/> makes for <c><paramref name="protocol"/>.recorded</c> and
    /// returns the result with every delivery's message and virtual time, in delivery order.
    /// </summary>
    public static (SimulationResult Result, IReadOnlyList<(MessageId Message, TimeSpan At)> Deliveries) Run(string protocol, Func<string, SimulationOptions> options)
    {
        string name = protocol + ".recorded";
        var recorder = new DeliveryRecorder();
        lock (Gate)
        {
            if (!ProtocolRegistry.IsRegistered(name))
            {
                Func<ProtocolSetup, IGossipProtocol> inner = ProtocolRegistry.Factory(protocol);
                ProtocolRegistry.Register(name, setup => new RecordingProtocol(inner(setup), s_current!), $"{protocol}, its deliveries noted by the benchmark harness");
            }

            s_current = recorder;
            try
            {
                return (Simulator.Run(options(name)), recorder._deliveries);
            }
            finally
            {
                s_current = null;
            }
        }
    }

    public void Send(int neighbour, IGossipFrame frame) => _inner.Send(neighbour, frame);

    public void SetTimer(TimeSpan delay, long timerId) => _inner.SetTimer(delay, timerId);

    public void Deliver(MessageId message, int hops)
    {
        _deliveries.Add((message, _inner.Now));
        _inner.Deliver(message, hops);
    }

    public void CountVerify() => _inner.CountVerify();

    private DeliveryRecorder For(IGossipContext context)
    {
        _inner = context;
        return this;
    }

    private sealed class RecordingProtocol(IGossipProtocol inner, DeliveryRecorder recorder) : IGossipProtocol
    {
        public void Start(IGossipContext context) => inner.Start(recorder.For(context));

        public void Publish(IGossipContext context, MessageId message, int payloadBytes) => inner.Publish(recorder.For(context), message, payloadBytes);

        public void FrameReceived(IGossipContext context, int fromNeighbour, IGossipFrame frame) => inner.FrameReceived(recorder.For(context), fromNeighbour, frame);

        public void Timer(IGossipContext context, long timerId) => inner.Timer(recorder.For(context), timerId);

        public void NeighbourUp(IGossipContext context, int neighbour) => inner.NeighbourUp(recorder.For(context), neighbour);

        public void NeighbourDown(IGossipContext context, int neighbour) => inner.NeighbourDown(recorder.For(context), neighbour);
    }
}
