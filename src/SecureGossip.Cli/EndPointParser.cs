using System.Globalization;
using System.Net;

namespace SecureGossip.Cli;

/// <summary>Parses the CLI's <c>HOST:PORT</c> arguments.</summary>
internal static class EndPointParser
{
    public static bool TryParse(string text, out EndPoint? endPoint, out string? error)
    {
        endPoint = null;
        error = null;
        if (IPEndPoint.TryParse(text, out IPEndPoint? ip) && text.Contains(':', StringComparison.Ordinal) && !text.EndsWith(']'))
        {
            endPoint = ip;
            return true;
        }

        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
        {
            error = $"'{text}' is not HOST:PORT (e.g. 127.0.0.1:7000, [::1]:7000, localhost:7000).";
            return false;
        }

        endPoint = new DnsEndPoint(text[..colon], port);
        return true;
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
