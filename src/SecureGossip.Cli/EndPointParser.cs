using System.Globalization;
using System.Net;

namespace SecureGossip.Cli;

/// <summary>Parses the CLI's <c>HOST:PORT</c> arguments.</summary>
internal static class EndPointParser
{
    public static bool TryParse(string text, out EndPoint? endPoint, out string? error) => Transports.PeerAddress.TryParseEndPoint(text, out endPoint, out error);

    /// <summary>
    /// A peer's address: <c>HOST:PORT</c>, or <c>@KEY.ed25519@HOST:PORT</c> for a node of a private network, whose
    /// long-term key the handshake makes it prove (<paramref name="key"/>, else null).
    /// </summary>
    public static bool TryParsePeer(string text, out EndPoint? endPoint, out byte[]? key, out string? error)
    {
        bool parsed = Transports.PeerAddress.TryParse(text, out Transports.PeerAddress? address, out error);
        endPoint = address?.EndPoint;
        key = address?.Key;
        return parsed;
    }

    public static async Task<IPEndPoint> ResolveForListenAsync(EndPoint endPoint, CancellationToken cancellationToken)
    {
        if (endPoint is IPEndPoint ip)
        {
            return ip;
        }

        var dns = (DnsEndPoint)endPoint;
        IPAddress[] addresses = await Dns.GetHostAddressesAsync(dns.Host, cancellationToken);
        IPAddress address = addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault()
            ?? throw new InvalidOperationException($"'{dns.Host}' resolves to no address.");
        return new IPEndPoint(address, dns.Port);
    }
}
