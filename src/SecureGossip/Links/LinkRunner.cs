using SecureGossip.Engine;
using SecureGossip.Receive;
using SecureGossip.Transports;

namespace SecureGossip.Links;

/// <summary>
/// A link's life, from a connection handed to the node to its end: hello, read loop, write loop, and a teardown that
/// ends (and logs) the link once whatever fails on the way.
/// </summary>
internal sealed class LinkRunner(NodeServices node, ReceivePipeline receive)
{
    /// <summary>
    /// Gossips over <paramref name="transport"/> until it ends; never throws for anything the link does. With
    /// <paramref name="secured"/> the connection already passed the middleware (a <see cref="GossipTopicRouter"/>
    /// secured it to read its hello).
    /// </summary>
    public async Task RunAsync(GossipConnection transport, CancellationToken cancellationToken, bool secured = false)
    {
        GossipConnection? connection = secured ? transport : await HandshakeAsync(transport, cancellationToken);
        if (connection is null)
        {
            return;
        }

        CancellationTokenSource linked;
        try
        {
            linked = CancellationTokenSource.CreateLinkedTokenSource(node.Stopping, cancellationToken, connection.Closed, transport.Closed);
        }
        catch (ObjectDisposedException)
        {
            await connection.DisposeAsync();
            throw new ObjectDisposedException(nameof(GossipNode), "The node is disposed; the connection was closed.");
        }

        using (linked)
        {
            var link = new PeerLink(node, connection, linked) { Transport = transport };
            node.Links.Add(link);
            if (node.Options.Topic.IsDefault)
            {
                node.Actor.Post(new LinkUpWork(link, 1)); // a v1 link until its hello; a topic's link is up only at its hello (§20)
            }

            Log.PeerConnected(node.Logger, connection);
            Task writer = Task.CompletedTask;
            bool brokenBox = false;
            try
            {
                if (node.SpeaksV2)
                {
                    link.Enqueue(node.Hello); // always the first line
                    link.HelloTimer = node.Time.CreateTimer(
                        static state =>
                        {
                            var (services, peer) = ((NodeServices, PeerLink))state!;
                            services.Actor.Post(new HelloTimeoutWork(peer));
                        },
                        (node, link),
                        node.Options.Links.HelloTimeout,
                        Timeout.InfiniteTimeSpan);
                }

                writer = link.WriteLoopAsync();
                await receive.ReadLoopAsync(link, linked.Token);
                link.Close("closed by the peer");
            }
            catch (OperationCanceledException) when (linked.IsCancellationRequested)
            {
                link.Close(node.IsStopping ? "the node is stopping" : cancellationToken.IsCancellationRequested ? "stopped by its caller (a listener or client stopping)" : connection.AbortReason ?? transport.AbortReason ?? "closed");
            }
            catch (Exception e)
            {
                brokenBox = e is Crypto.BoxStreamException;
                link.Fail("read failed", e);
            }
            finally
            {
                // The box-stream aborts the connection when a box does not open, so the read loop may learn of the end
                // by that abort (a cancellation) before it reads the failure: the connection says which it was.
                if (brokenBox || connection is BoxStreamConnection { Broken: true })
                {
                    Interlocked.Increment(ref node.Counters.SecuredLinksBroken); // bytes changed, dropped, replayed or reordered in transit
                }

                await EndAsync(link, writer);
            }
        }
    }

    /// <summary>
    /// Passes the connection through <see cref="GossipLinkOptions.Middleware"/>, within
    /// <see cref="GossipLinkOptions.HandshakeTimeout"/>. Returns the connection the protocol is to use, or null when a
    /// step refused it (logged; the connection is disposed).
    /// </summary>
    public async Task<GossipConnection?> HandshakeAsync(GossipConnection transport, CancellationToken cancellationToken)
    {
        IList<GossipConnectionMiddleware> steps = node.Options.Links.Middleware;
        if (steps.Count == 0)
        {
            return transport;
        }

        GossipConnection connection = transport;
        try
        {
            using var timeout = new CancellationTokenSource(node.Options.Links.HandshakeTimeout, node.Time);
            using var handshake = CancellationTokenSource.CreateLinkedTokenSource(node.Stopping, cancellationToken, transport.Closed, timeout.Token);
            try
            {
                foreach (GossipConnectionMiddleware step in steps)
                {
                    connection = await step(connection, handshake.Token) ?? throw new InvalidOperationException("A connection middleware returned null.");
                }
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"the handshake took longer than {node.Options.Links.HandshakeTimeout.TotalSeconds:0.#} s");
            }

            return connection;
        }
        catch (Exception e)
        {
            string reason = e is TimeoutException or OperationCanceledException or Crypto.SecretHandshakeException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            if (!node.Stopping.IsCancellationRequested)
            {
                Interlocked.Increment(ref node.Counters.HandshakesRefused);
            }

            if (node.LinkLog.MayLog())
            {
                Log.HandshakeFailed(node.Logger, transport, reason); // anyone can fail a handshake: rate-limited like link events
            }
            else
            {
                Log.HandshakeFailedQuietly(node.Logger, transport, reason);
            }

            await connection.DisposeAsync();
            if (!ReferenceEquals(connection, transport))
            {
                await transport.DisposeAsync();
            }

            return null;
        }
    }

    /// <summary>
    /// Takes a finished link down: every step is guarded, because a dead transport can fail at any of them, and the
    /// link must end (and be logged) once whatever happens.
    /// </summary>
    private async Task EndAsync(PeerLink link, Task writer)
    {
        GossipConnection connection = link.Connection;
        try
        {
            node.Links.Remove(link);
            node.Membership?.LinkEnded(link);
            if (link.HelloTimer is { } helloTimer)
            {
                await helloTimer.DisposeAsync();
            }

            node.Actor.Post(new LinkDownWork(link));

            // Let queued lines drain briefly, then close the transport under a writer that is still stuck.
            link.Outbox.Writer.TryComplete();
            link.CancelAfter(node.Options.Links.DrainTimeout);
            if (!await CompletesWithinAsync(writer, node.Options.Links.DrainTimeout + TimeSpan.FromSeconds(1)))
            {
                link.Close("write stuck while closing");
            }
        }
        catch (Exception e)
        {
            Log.LinkStepFailed(node.Logger, connection, e);
        }

        try
        {
            if (!await CompletesWithinAsync(DisposeBothAsync(connection, link.Transport), node.Options.Links.CloseTimeout))
            {
                Log.LinkStepFailed(node.Logger, connection, new TimeoutException($"The transport did not close within {node.Options.Links.CloseTimeout.TotalSeconds:0} s; the link is ended without it."));
            }

            if (connection.CloseError is { } closeError)
            {
                Log.PeerCloseFailed(node.Logger, connection, closeError.Message);
            }

            // A writer stuck in a transport that ignores cancellation ends when the transport is closed under it. The
            // outbox has one reader: what the writer left is taken back only once the writer is done. Lines a closed
            // link never got to write go back to the flood's store for the next round.
            if (await CompletesWithinAsync(writer, TimeSpan.FromSeconds(5)) && !node.IsStopping)
            {
                List<byte[]> unsent = link.TakeUnsent();
                if (unsent.Count > 0)
                {
                    node.Actor.Post(new RequeueWork(unsent));
                }
            }
        }
        catch (Exception e)
        {
            Log.LinkStepFailed(node.Logger, connection, e);
        }
        finally
        {
            node.LinkLog.Down(link);
            link.Done.TrySetResult();
        }
    }

    /// <summary>The connection the protocol used, then (a middleware wrapped it) the transport's own.</summary>
    private static async Task DisposeBothAsync(GossipConnection connection, GossipConnection transport)
    {
        await connection.DisposeAsync();
        if (!ReferenceEquals(connection, transport))
        {
            await transport.DisposeAsync();
        }
    }

    private async Task<bool> CompletesWithinAsync(Task task, TimeSpan limit)
    {
        try
        {
            await task.WaitAsync(limit, node.Time);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (Exception)
        {
            return true; // the writer's own failures are logged by the writer
        }
    }
}
