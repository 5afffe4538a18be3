using System.Threading.Channels;

namespace SecureGossip;

/// <summary>A stream of accepted messages from <see cref="GossipNode.Subscribe"/>. Dispose it to stop receiving.</summary>
public sealed class GossipSubscription : IAsyncDisposable, IDisposable
{
    private readonly Channel<GossipMessage> _channel;
    private readonly Action<GossipSubscription> _unsubscribe;

    internal GossipSubscription(Channel<GossipMessage> channel, Action<GossipSubscription> unsubscribe)
    {
        _channel = channel;
        _unsubscribe = unsubscribe;
    }

    /// <summary>The messages, in the order the node accepted them.</summary>
    public ChannelReader<GossipMessage> Reader => _channel.Reader;

    /// <summary>Reads messages until the subscription or node ends.</summary>
    public IAsyncEnumerable<GossipMessage> ReadAllAsync(CancellationToken cancellationToken = default) => _channel.Reader.ReadAllAsync(cancellationToken);

    internal ChannelWriter<GossipMessage> Writer => _channel.Writer;

    internal void Complete() => _channel.Writer.TryComplete();

    /// <inheritdoc/>
    public void Dispose()
    {
        _unsubscribe(this);
        Complete();
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
