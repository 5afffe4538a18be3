using System.IO.Pipelines;

namespace SecureGossip.Transports;

/// <summary>Links in one process, with no sockets: each end of a pair is the other's neighbour.</summary>
public static class InMemoryTransport
{
    /// <summary>
    /// Two connected ends. Each direction is a <see cref="Pipe"/> that pauses its writer past
    /// <paramref name="pauseWriterThreshold"/> bytes (default 1 MiB), so a fast sender cannot outrun a slow reader.
    /// </summary>
    public static (GossipConnection Left, GossipConnection Right) CreatePair(long pauseWriterThreshold = 1024 * 1024)
    {
        PipeOptions options = BlockPool.PipeOptions(pauseWriterThreshold, inline: true);
        var leftToRight = new Pipe(options);
        var rightToLeft = new Pipe(options);
        return (new DuplexPipeConnection(rightToLeft.Reader, leftToRight.Writer), new DuplexPipeConnection(leftToRight.Reader, rightToLeft.Writer));
    }
}
