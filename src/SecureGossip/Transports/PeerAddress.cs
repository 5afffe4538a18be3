using System.Globalization;
using System.Net;

namespace SecureGossip.Transports;

/// <summary>
/// Where a peer is reached: <c>HOST:PORT</c> (TCP), <c>ws://HOST:PORT/PATH</c> (WebSocket), either prefixed
/// <c>@KEY.ed25519@</c> for a node of a private network whose long-term key the handshake makes it prove. The form
/// <c>sgossip node --connect</c> and <c>--bootstrap</c> take, and the one nodes advertise to each other.
/// </summary>
/// <param name="EndPoint">The transport address.</param>
/// <param name="Key">The peer's 32-byte ed25519 key on a private network, else <see langword="null"/>.</param>
public sealed record PeerAddress(EndPoint EndPoint, byte[]? Key)
{
    /// <summary>Parses <paramref name="text"/>; false with a message that says what is wrong.</summary>
    public static bool TryParse(string text, out PeerAddress? address, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        address = null;
        byte[]? key = null;
        string rest = text;
        if (text.StartsWith('@'))
        {
            int at = text.IndexOf(".ed25519@", StringComparison.Ordinal);
            if (at < 0)
            {
                error = $"'{text}' is not @KEY.ed25519@HOST:PORT.";
                return false;
            }

            try
            {
                key = SecretHandshakeMiddleware.ParseKey(text[..(at + ".ed25519".Length)]);
            }
            catch (ArgumentException e)
            {
                error = $"'{text}': {e.Message}";
                return false;
            }

            rest = text[(at + ".ed25519@".Length)..];
        }

        if (!TryParseEndPoint(rest, out EndPoint? endPoint, out error))
        {
            return false;
        }

        address = new PeerAddress(endPoint!, key);
        return true;
    }

    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="FormatException">It is not an address; the message says why.</exception>
    public static PeerAddress Parse(string text) =>
        TryParse(text, out PeerAddress? address, out string? error) ? address! : throw new FormatException(error);

    /// <summary><c>HOST:PORT</c> or <c>ws://HOST:PORT/PATH</c> (or <c>wss://</c>), without a key.</summary>
    public static bool TryParseEndPoint(string text, out EndPoint? endPoint, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        endPoint = null;
        error = null;
        if (text.StartsWith("ws://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("wss://", StringComparison.OrdinalIgnoreCase))
        {
            if (Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) && uri.Port >= 0)
            {
                endPoint = new WebSocketEndPoint(uri);
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
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535 ||
            Uri.CheckHostName(text[..colon]) == UriHostNameType.Unknown)
        {
            error = $"'{text}' is not HOST:PORT (e.g. 127.0.0.1:7000, [::1]:7000, localhost:7000).";
            return false;
        }

        endPoint = new DnsEndPoint(text[..colon], port);
        return true;
    }

    /// <summary>
    /// Whether others can dial it: not an unspecified address (<c>0.0.0.0</c>, <c>::</c>) and not port 0. A node never
    /// advertises an address that fails this.
    /// </summary>
    public bool IsDialable => EndPoint switch
    {
        IPEndPoint ip => !ip.Address.Equals(IPAddress.Any) && !ip.Address.Equals(IPAddress.IPv6Any) && ip.Port != 0,
        DnsEndPoint dns => dns.Port != 0,
        _ => true,
    };

    /// <summary>The canonical text form, which <see cref="TryParse"/> reads back.</summary>
    public override string ToString()
    {
        string endPoint = EndPoint switch
        {
            WebSocketEndPoint ws => ws.Uri.ToString(),
            DnsEndPoint dns => $"{dns.Host}:{dns.Port.ToString(CultureInfo.InvariantCulture)}",
            _ => EndPoint.ToString()!,
        };
        return Key is null ? endPoint : $"@{Convert.ToBase64String(Key)}.ed25519@{endPoint}";
    }

    /// <inheritdoc/>
    public bool Equals(PeerAddress? other) => other is not null && ToString() == other.ToString();

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToString());
}
