using SecureGossip.Tests.TestSupport;

namespace SecureGossip.Tests.Examples;

/// <summary>The README's C# example, compiled and run: keep the two in step.</summary>
public sealed class ReadmeExampleTests
{
    [Fact]
    public async Task The_readme_example_delivers_to_both_peers()
    {
        var received = new List<string>();
        var done = new TaskCompletionSource();

        // --- README example starts ---
        await using var peer1 = new GossipNode();
        await using var peer2 = new GossipNode();
        await using var peer3 = new GossipNode();

        // Two links: peer1 <-> peer2 <-> peer3 (here over in-memory streams; TCP works the same way).
        Link(peer1.CreatePeerStream(), peer2.CreatePeerStream());
        Link(peer3.CreatePeerStream(), peer2.CreatePeerStream());

        peer1.MessageReceived += (_, msg) => Console.WriteLine($"peer1 got {msg} from {msg.Author}");
        peer2.MessageReceived += (_, msg) => Console.WriteLine($"peer2 got {msg} from {msg.Author}");

        peer3.Publish(new { data = "hello warld" });

        static void Link(Stream a, Stream b)
        {
            _ = a.CopyToAsync(b);
            _ = b.CopyToAsync(a);
        }
        // --- README example ends ---

        void Record(GossipMessage m)
        {
            lock (received)
            {
                received.Add(m.ToString());
                if (received.Count == 2)
                {
                    done.TrySetResult();
                }
            }
        }

        peer1.MessageReceived += (_, m) => Record(m);
        peer2.MessageReceived += (_, m) => Record(m);
        await done.Task.WaitAsync(Gossip.Timeout);
        Assert.Equal(["{\"data\":\"hello warld\"}", "{\"data\":\"hello warld\"}"], received);
    }
}
