using System.Net;
using System.Net.Sockets;

namespace SecureGossip.Transports;

/// <summary>A listener could not bind or listen; the message names the address and the reason.</summary>
public sealed class ListenException : SocketException
{
    /// <summary>Wraps <paramref name="inner"/>, raised while binding <paramref name="endPoint"/>.</summary>
    public ListenException(IPEndPoint endPoint, SocketException inner)
        : base((int)(inner ?? throw new ArgumentNullException(nameof(inner))).SocketErrorCode)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        EndPoint = endPoint;
        Inner = inner;
    }

    /// <summary>The address that could not be bound.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The socket error as the system reported it.</summary>
    public SocketException Inner { get; }

    /// <inheritdoc/>
    public override string Message => $"cannot listen on {EndPoint}: {Inner.Message}";
}
