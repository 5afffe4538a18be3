using SecureGossip.Protocol.Membership;

namespace SecureGossip.Tests.Protocol.Membership;

/// <summary>A membership context that records what the state machine asks for, on a clock the test moves.</summary>
internal sealed class RecordingMembershipContext : IMembershipContext<int>
{
    public TimeSpan Now { get; set; }

    public Random Random { get; } = new(7);

    public List<int> Dials { get; } = [];

    public List<(int Peer, MembershipFrame<int> Frame)> Sent { get; } = [];

    public List<int> Closed { get; } = [];

    public List<(TimeSpan Delay, long Id)> Timers { get; } = [];

    public HashSet<int> Up { get; } = [];

    public List<int> Downs { get; } = [];

    public void Dial(int peer) => Dials.Add(peer);

    public void Send(int peer, MembershipFrame<int> frame) => Sent.Add((peer, frame));

    public void Close(int peer) => Closed.Add(peer);

    public void SetTimer(TimeSpan delay, long timerId) => Timers.Add((delay, timerId));

    public void NeighbourUp(int peer) => Assert.True(Up.Add(peer), $"{peer} reported up twice");

    public void NeighbourDown(int peer)
    {
        Assert.True(Up.Remove(peer), $"{peer} reported down while not up");
        Downs.Add(peer);
    }

    public IEnumerable<T> SentTo<T>(int peer)
        where T : MembershipFrame<int> => Sent.Where(s => s.Peer == peer).Select(s => s.Frame).OfType<T>();

    public void Clear()
    {
        Dials.Clear();
        Sent.Clear();
        Closed.Clear();
        Downs.Clear();
    }
}
