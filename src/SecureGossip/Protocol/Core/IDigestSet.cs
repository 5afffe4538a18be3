namespace SecureGossip.Protocol.Core;

/// <summary>A set of message digests shared between a driver and its core (see <see cref="PlumtreeOptions.SeenDigests"/>).</summary>
/// <remarks>The core calls it from its own thread, one call at a time; the driver may use it from others, so implementations lock.</remarks>
public interface IDigestSet
{
    /// <summary>Whether <paramref name="digest"/> is in the set.</summary>
    bool Contains(UInt128 digest);

    /// <summary>Adds <paramref name="digest"/> (the set may forget its oldest entries to stay bounded).</summary>
    void Add(UInt128 digest);
}
