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
        if (text.StartsWith("ws://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("wss://", StringComparison.OrdinalIgnoreCase))
        {
            if (Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) && uri.Port >= 0)
            {
                endPoint = new Transports.WebSocketEndPoint(uri);
                return true;
            }

            error = $"'{text}' is not ws://HOST:PORT/PATH.";
            return false;
        }

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

    /// <summary>
    /// A peer's address: <c>HOST:PORT</c>, or <c>@KEY.ed25519@HOST:PORT</c> for a node of a private network, whose
    /// long-term key the handshake makes it prove (<paramref name="key"/>, else null).
    /// </summary>
    public static bool TryParsePeer(string text, out EndPoint? endPoint, out byte[]? key, out string? error)
    {
        key = null;
        if (text.StartsWith('@'))
        {
            int at = text.IndexOf(".ed25519@", StringComparison.Ordinal);
            if (at < 0)
            {
                endPoint = null;
                error = $"'{text}' is not @KEY.ed25519@HOST:PORT.";
                return false;
            }

            try
            {
                key = Transports.SecretHandshakeMiddleware.ParseKey(text[..(at + ".ed25519".Length)]);
            }
            catch (ArgumentException e)
            {
                endPoint = null;
                error = $"'{text}': {e.Message}";
                return false;
            }

            text = text[(at + ".ed25519@".Length)..];
        }

        return TryParse(text, out endPoint, out error);
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
