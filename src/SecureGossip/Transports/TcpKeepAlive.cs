using System.Net.Sockets;

namespace SecureGossip.Transports;

/// <summary>
/// Socket settings that let the kernel notice a dead TCP peer within about 10 s: keepalive probes after 5 s idle,
/// every second, 5 of them; and (Linux) TCP_USER_TIMEOUT, so data left unacknowledged for 10 s aborts the
/// connection instead of being retransmitted for the default 15 minutes. Links to v1 (JS) peers, which send no
/// keepalive of their own, rely on these.
/// </summary>
internal static class TcpKeepAlive
{
    /// <summary>How long unacknowledged data may wait before the kernel gives up on the peer.</summary>
    public static readonly TimeSpan UserTimeout = TimeSpan.FromSeconds(10);

    private const int IpProtoTcp = 6;
    private const int TcpUserTimeoutOption = 18; // TCP_USER_TIMEOUT, linux/tcp.h

    public static void Apply(Socket socket)
    {
        try
        {
            socket.NoDelay = true;
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 5);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 1);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 5);
            if (OperatingSystem.IsLinux())
            {
                socket.SetRawSocketOption(IpProtoTcp, TcpUserTimeoutOption, BitConverter.GetBytes((int)UserTimeout.TotalMilliseconds));
            }
        }
        catch (Exception e) when (e is SocketException or PlatformNotSupportedException)
        {
            // Not every platform has every option; the node's own keepalive on v2 links still applies.
        }
    }
}
