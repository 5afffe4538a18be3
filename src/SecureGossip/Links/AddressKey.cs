using System.Net;

namespace SecureGossip.Links;

/// <summary>The key under which an address is limited and backed off.</summary>
internal static class AddressKey
{
    /// <summary>
    /// An IPv4 address (mapped ones unmapped), or the /64 an IPv6 address is in, because one host commonly holds a
    /// whole /64 and could otherwise rotate through it.
    /// </summary>
    public static IPAddress Normalize(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }
}
