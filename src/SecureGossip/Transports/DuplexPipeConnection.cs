using System.IO.Pipelines;
using System.Net;

namespace SecureGossip.Transports;

/// <summary>A connection over a pipe reader and writer that already exist (in-memory links, custom transports).</summary>
public sealed class DuplexPipeConnection : GossipConnection
{
    private readonly EndPoint? _remote;

    /// <summary>Wraps <paramref name="input"/> and <paramref name="output"/>; disposing completes both.</summary>
    public DuplexPipeConnection(PipeReader input, PipeWriter output, EndPoint? remoteEndPoint = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        Input = input;
        Output = output;
        _remote = remoteEndPoint;
    }

    /// <inheritdoc/>
    public override PipeReader Input { get; }

    /// <inheritdoc/>
    public override PipeWriter Output { get; }

    /// <inheritdoc/>
    public override EndPoint? RemoteEndPoint => _remote;

    /// <inheritdoc/>
    protected override async ValueTask DisposeCoreAsync()
    {
        try
        {
            await Input.CompleteAsync();
        }
        finally
        {
            await Output.CompleteAsync();
        }
    }
}
