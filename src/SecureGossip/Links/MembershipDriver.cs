using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using SecureGossip.Engine;
using SecureGossip.Protocol;
using SecureGossip.Protocol.Membership;
using SecureGossip.Transports;

namespace SecureGossip.Links;

/// <summary>
/// Runs a node's <see cref="HyParView{TPeer}"/> on real links (docs/PROTOCOL.md §19): peers are named by the addresses
/// they advertise in their hellos, a dial is a connection run by the node like any other, a membership frame is a v2
/// frame on the link. Membership decides which links the node keeps; dissemination uses whatever links are up.
/// </summary>
/// <remarks>
/// The state machine is owned by one loop: link events (from read loops and link ends), frames, dial results and timers
/// are posted to a channel and handled in order, so HyParView is never called from two threads.
/// </remarks>
internal sealed class MembershipDriver : IMembershipContext<string>, IAsyncDisposable
{
    private readonly NodeServices _node;
    private readonly Func<GossipConnection, Task> _run;
    private readonly Action<string, bool> _changed;
    private readonly HyParView<string> _view;
    private readonly Channel<Action> _work = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, PeerLink> _byPeer = new(StringComparer.Ordinal);
    private readonly Dictionary<PeerLink, string> _peerOf = [];
    private readonly Dictionary<GossipConnection, string> _dialled = [];
    private readonly HashSet<PeerLink> _closing = [];
    private readonly Dictionary<PeerLink, string> _candidates = [];
    private readonly Dictionary<long, ITimer> _timers = [];
    private readonly Random _random;
    private readonly Storage.IGossipPeerStore? _peerStore;

    // The views are saved this often (and at disposal) when the node's store keeps peers; the id is outside HyParView's.
    private static readonly TimeSpan SaveInterval = TimeSpan.FromSeconds(10);
    private const long SaveTimer = -1;
    private readonly Task _loop;
    private readonly List<(Func<bool> Condition, TaskCompletionSource Done)> _waiters = [];
    private volatile string[] _active = [];
    private volatile string[] _passive = [];

    public MembershipDriver(NodeServices node, GossipMembershipOptions options, Func<GossipConnection, Task> run, Action<string, bool> changed)
    {
        _node = node;
        _run = run;
        _changed = changed;
        Self = options.AdvertisedAddress!;
        _random = node.Options.Random ?? new Random();
        _view = new HyParView<string>(Self, options.Bootstrap, options.HyParView, StringComparer.Ordinal);
        _peerStore = node.Options.Store as Storage.IGossipPeerStore;
        _view.Remember(options.Remembered, _random);
        if (_peerStore is not null)
        {
            _view.Remember(_peerStore.LoadPeers(), _random); // the views of the last run: rejoin through them first
        }

        _loop = Task.Run(LoopAsync);
        Post(() => _view.Start(this));
        Post(() => ((IMembershipContext<string>)this).SetTimer(SaveInterval, SaveTimer));
    }

    /// <summary>This node's advertised address.</summary>
    public string Self { get; }

    /// <summary>The active view as of the loop's last step (any thread).</summary>
    public IReadOnlyList<string> Active => _active;

    /// <summary>The passive view as of the loop's last step (any thread).</summary>
    public IReadOnlyList<string> Passive => _passive;

    public TimeSpan Now => _node.Time.GetElapsedTime(0);

    public Random Random => _random;

    /// <summary>A link's peer said hello (read loop).</summary>
    public void HelloReceived(PeerLink link) => Post(() => OnHello(link));

    /// <summary>A membership frame arrived on a link (read loop).</summary>
    public void FrameReceived(PeerLink link, MembershipFrame<string> frame) => Post(() =>
    {
        if (_peerOf.TryGetValue(link, out string? peer))
        {
            _view.FrameReceived(this, peer, frame);
        }
        else if (_candidates.Remove(link, out string? candidate) && !_byPeer.ContainsKey(candidate))
        {
            // A link the peer opened becomes a membership link with its first membership frame (a join, a request, a
            // shuffle's answer); links opened for other reasons (--connect) are left alone.
            _byPeer[candidate] = link;
            _peerOf[link] = candidate;
            _view.LinkUp(this, candidate, outbound: false);
            _view.FrameReceived(this, candidate, frame);
        }
    });

    /// <summary>Completes once <paramref name="condition"/> holds after a step of the loop (checked on it, for tests).</summary>
    public Task WhenAsync(Func<bool> condition)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() => _waiters.Add((condition, done)));
        return done.Task;
    }

    /// <summary>A link ended (its runner).</summary>
    public void LinkEnded(PeerLink link) => Post(() => OnLinkEnded(link));

    public async ValueTask DisposeAsync()
    {
        Post(SavePeers);
        _work.Writer.TryComplete();
        await _loop;
        foreach (ITimer timer in _timers.Values)
        {
            await timer.DisposeAsync();
        }

        _timers.Clear();
    }

    void IMembershipContext<string>.Dial(string peer)
    {
        if (_byPeer.ContainsKey(peer))
        {
            Post(() => _view.LinkUp(this, peer, outbound: true)); // answered on the link that is up, after this call
            return;
        }

        if (!PeerAddress.TryParse(peer, out PeerAddress? address, out _) || _node.IsStopping)
        {
            Post(() => _view.DialFailed(this, peer));
            return;
        }

        _ = DialAsync(peer, address!);
    }

    void IMembershipContext<string>.Send(string peer, MembershipFrame<string> frame)
    {
        if (_byPeer.TryGetValue(peer, out PeerLink? link))
        {
            link.Enqueue(V2MembershipCodec.Encode(frame));
        }
    }

    void IMembershipContext<string>.Close(string peer)
    {
        if (_byPeer.Remove(peer, out PeerLink? link))
        {
            _peerOf.Remove(link);
            _closing.Add(link);
            link.CloseAfterSending("membership: not a neighbour");
        }
    }

    void IMembershipContext<string>.SetTimer(TimeSpan delay, long timerId)
    {
        ITimer timer = _node.Time.CreateTimer(
            static state =>
            {
                var (driver, id) = ((MembershipDriver, long))state!;
                driver.Post(() => driver.Fire(id));
            },
            (this, timerId),
            delay,
            Timeout.InfiniteTimeSpan);
        if (_timers.Remove(timerId, out ITimer? replaced))
        {
            replaced.Dispose();
        }

        _timers[timerId] = timer;
    }

    void IMembershipContext<string>.NeighbourUp(string peer)
    {
        Interlocked.Increment(ref _node.Counters.NeighboursUp);
        if (_node.Options.Topic.IsDefault)
        {
            Log.NeighbourUp(_node.Logger, peer);
        }
        else
        {
            Log.TopicNeighbourUp(_node.Logger, peer, _node.Options.Topic.Name);
        }

        _changed(peer, true);
    }

    void IMembershipContext<string>.NeighbourDown(string peer)
    {
        Interlocked.Increment(ref _node.Counters.NeighboursDown);
        if (_node.Options.Topic.IsDefault)
        {
            Log.NeighbourDown(_node.Logger, peer);
        }
        else
        {
            Log.TopicNeighbourDown(_node.Logger, peer, _node.Options.Topic.Name);
        }

        _changed(peer, false);
    }

    private void Fire(long id)
    {
        if (!_timers.Remove(id, out ITimer? timer))
        {
            return;
        }

        timer.Dispose();
        if (id == SaveTimer)
        {
            SavePeers();
            ((IMembershipContext<string>)this).SetTimer(SaveInterval, SaveTimer);
            return;
        }

        _view.Timer(this, id);
    }

    private void SavePeers()
    {
        if (_peerStore is null)
        {
            return;
        }

        try
        {
            _peerStore.SavePeers([.. _view.Active.Concat(_view.Passive).Distinct(StringComparer.Ordinal)]);
        }
        catch (Exception e)
        {
            Log.MembershipFailed(_node.Logger, e);
        }
    }

    private async Task DialAsync(string peer, PeerAddress address)
    {
        GossipConnection connection;
        try
        {
            connection = await TcpGossipClient.ConnectAsync(address.EndPoint, TcpGossipClient.ConnectTimeout, _node.Time, _node.Stopping, address.Key);
        }
        catch (Exception e)
        {
            Log.DialFailed(_node.Logger, peer, e.Message);
            Post(() => _view.DialFailed(this, peer));
            return;
        }

        // Registered before the link runs, so its hello (posted later by its read loop) finds it.
        Post(() => _dialled[connection] = peer);
        try
        {
            await _run(connection);
        }
        catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
        {
            // The node is stopping.
        }

        // A connection that never became a link (its handshake refused, say) has no end event: its dial failed.
        Post(() =>
        {
            if (_dialled.Remove(connection, out string? unanswered))
            {
                _view.DialFailed(this, unanswered);
            }
        });
    }

    private void OnHello(PeerLink link)
    {
        if (link.Version < 2 || link.CloseReason is not null)
        {
            return;
        }

        if (_dialled.Remove(link.Transport, out string? dialled))
        {
            if (_byPeer.ContainsKey(dialled))
            {
                link.CloseAfterSending("membership: a link to this peer is already up");
                _closing.Add(link);
            }
            else
            {
                _byPeer[dialled] = link;
                _peerOf[link] = dialled;
            }

            _view.LinkUp(this, dialled, outbound: true);
        }
        else if (link.AdvertisedAddress is { } peer && V2MembershipCodec.Valid(peer) && peer != Self)
        {
            _candidates[link] = peer; // a member, until it says what it wants of us
        }
    }

    private void OnLinkEnded(PeerLink link)
    {
        if (_node.IsStopping)
        {
            return; // the node closes its own links: its views stay as they were, to be saved and rejoined from
        }

        _candidates.Remove(link);
        if (_closing.Remove(link))
        {
            return;
        }

        if (_peerOf.Remove(link, out string? peer))
        {
            _byPeer.Remove(peer);
            _view.LinkDown(this, peer);
        }
        else if (_dialled.Remove(link.Transport, out string? dialled))
        {
            _view.DialFailed(this, dialled); // it ended before its hello (refused, or not a v2 node)
        }
    }

    private void Post(Action action) => _work.Writer.TryWrite(action);

    private async Task LoopAsync()
    {
        await foreach (Action action in _work.Reader.ReadAllAsync())
        {
            try
            {
                action();
                Publish();
            }
            catch (Exception e)
            {
                Log.MembershipFailed(_node.Logger, e);
            }
        }
    }

    private void Publish()
    {
        _active = [.. _view.Active];
        _passive = [.. _view.Passive];
        for (int i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].Condition())
            {
                _waiters[i].Done.TrySetResult();
                _waiters.RemoveAt(i);
            }
        }
    }
}
