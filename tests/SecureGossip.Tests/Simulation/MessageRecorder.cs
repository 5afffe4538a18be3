using SecureGossip.Simulation;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Tests.Simulation;

/// <summary>
/// Wraps every node's protocol to record, per message, the payload frames sent, the deliveries and the last
/// delivery hop, so tests can measure any subset of messages (steady state) from the raw events.
/// </summary>
internal sealed class MessageRecorder
{
    private readonly Dictionary<MessageId, int> _sends = [];
    private readonly Dictionary<MessageId, int> _deliveries = [];
    private readonly Dictionary<MessageId, int> _lastHop = [];

    public List<MessageId> Published { get; } = [];

    public int PayloadSends(MessageId id) => _sends.GetValueOrDefault(id);

    public int Deliveries(MessageId id) => _deliveries.GetValueOrDefault(id);

    public int LastDeliveryHop(MessageId id) => _lastHop.GetValueOrDefault(id);

    public Func<int, IGossipProtocol> Wrap(Func<int, IGossipProtocol> factory) => node => new Recorded(this, factory(node));

    private sealed class Recorded(MessageRecorder recorder, IGossipProtocol inner) : IGossipProtocol
    {
        public void Start(IGossipContext context) => inner.Start(Context(context));

        public void Publish(IGossipContext context, MessageId message, int payloadBytes)
        {
            recorder.Published.Add(message);
            inner.Publish(Context(context), message, payloadBytes);
        }

        public void FrameReceived(IGossipContext context, int fromNeighbour, IGossipFrame frame) => inner.FrameReceived(Context(context), fromNeighbour, frame);

        public void Timer(IGossipContext context, long timerId) => inner.Timer(Context(context), timerId);

        public void NeighbourUp(IGossipContext context, int neighbour) => inner.NeighbourUp(Context(context), neighbour);

        public void NeighbourDown(IGossipContext context, int neighbour) => inner.NeighbourDown(Context(context), neighbour);

        private RecordingContext Context(IGossipContext context) => new(recorder, context);
    }

    private sealed class RecordingContext(MessageRecorder recorder, IGossipContext context) : IGossipContext
    {
        public int Self => context.Self;

        public TimeSpan Now => context.Now;

        public Random Random => context.Random;

        public void Send(int neighbour, IGossipFrame frame)
        {
            if (frame is PlumtreeMessage message)
            {
                recorder._sends[message.Message] = recorder._sends.GetValueOrDefault(message.Message) + 1;
            }

            context.Send(neighbour, frame);
        }

        public void SetTimer(TimeSpan delay, long timerId) => context.SetTimer(delay, timerId);

        public void Deliver(MessageId message, int hops)
        {
            recorder._deliveries[message] = recorder._deliveries.GetValueOrDefault(message) + 1;
            recorder._lastHop[message] = Math.Max(recorder._lastHop.GetValueOrDefault(message), hops);
            context.Deliver(message, hops);
        }

        public void CountVerify() => context.CountVerify();
    }
}
