using System.CommandLine;

namespace SecureGossip.Cli;

/// <summary>The secure-gossip README example: three peers in a line, the last one publishes.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "Three peers in a line in one process (peer1 - peer2 - peer3); peer3 publishes and the others print what they receive.");
        command.SetAction((_, cancellationToken) => RunAsync(Console.Out, cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        await using var peer1 = new GossipNode();
        await using var peer2 = new GossipNode();
        await using var peer3 = new GossipNode();

        // p1.pipe(p21).pipe(p1); p3.pipe(p22).pipe(p3)
        Pipe(peer1.CreatePeerStream(), peer2.CreatePeerStream());
        Pipe(peer3.CreatePeerStream(), peer2.CreatePeerStream());

        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int count = 0;
        void Print(string name, GossipMessage message)
        {
            lock (output)
            {
                output.WriteLine($"{name} received {message} from {Short(message.Author)} (peer3), seq {message.Sequence}");
            }

            if (Interlocked.Increment(ref count) == 2)
            {
                received.TrySetResult();
            }
        }

        peer1.MessageReceived += (_, m) => Print("peer1", m);
        peer2.MessageReceived += (_, m) => Print("peer2", m);
        peer3.MessageReceived += (_, m) => Print("peer3", m);

        output.WriteLine($"peer1 {Short(peer1.Keys.Public)}, peer2 {Short(peer2.Keys.Public)}, peer3 {Short(peer3.Keys.Public)}");
        output.WriteLine("peer3 publishes {\"data\":\"hello warld\"}");
        peer3.Publish(new { data = "hello warld" });

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await received.Task.WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("error: the message did not reach both peers within 10 s");
            return 1;
        }

        // Under protocol v2 (the default) the message crosses each link once, along a tree: no copy comes back to peer3.
        output.WriteLine("done: peer1 and peer2 received it once each; peer3 did not receive its own message");
        return 0;
    }

    private static string Short(string publicKey) => publicKey[..8] + "…";

    private static void Pipe(Stream a, Stream b)
    {
        _ = a.CopyToAsync(b).ContinueWith(_ => b.Dispose(), TaskScheduler.Default);
        _ = b.CopyToAsync(a).ContinueWith(_ => a.Dispose(), TaskScheduler.Default);
    }
}
