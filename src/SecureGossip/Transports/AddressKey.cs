using System.Net;
using System.Net.Sockets;

namespace SecureGossip.Transports;

/// <summary>
/// The key under which an address is limited and backed off: an IPv4 address (mapped ones unmapped), or the /64
/// an IPv6 address is in, because one host commonly holds a whole /64 and could otherwise rotate through it.
/// </summary>
internal static class AddressKey
{
    public static IPAddress Normalize(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }
}
