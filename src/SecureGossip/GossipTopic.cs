using System.Security.Cryptography;
using System.Text;

namespace SecureGossip;

/// <summary>
/// A topic: a separate network of the nodes that joined it, with its own membership overlay, its own dissemination
/// and its own messages (docs/PROTOCOL.md §20). A node runs one topic (<see cref="GossipNodeOptions.Topic"/>);
/// several nodes sharing one key and one listener run several (<see cref="GossipTopicRouter"/>).
/// </summary>
/// <remarks>
/// <para>A topic is named by the application and known on the wire by its <see cref="Id"/>, the SHA-256 of its name
/// (in UTF-8, after the prefix <c>secure-gossip/topic/v1:</c>), in lowercase hex. Links say which topic they carry
/// in their hello, and every message published to a topic carries its id inside the signed bytes
/// (<c>"$sg":{"topic":"&lt;id&gt;"}</c>), so a member of two topics cannot replay a message from one into the other.</para>
/// <para><see cref="Default"/>, named <c>default</c>, is the topic of a node that names none: it has no id, its hello
/// and its messages are those of a node without topics, and it is the only topic secure-gossip 0.3.1 peers can be on.</para>
/// </remarks>
public sealed class GossipTopic : IEquatable<GossipTopic>
{
    /// <summary>The longest topic name, in UTF-8 bytes.</summary>
    public const int MaxNameBytes = 256;

    /// <summary>The name that means <see cref="Default"/>.</summary>
    public const string DefaultName = "default";

    private static ReadOnlySpan<byte> IdPrefix => "secure-gossip/topic/v1:"u8;

    private GossipTopic(string name, string? id)
    {
        Name = name;
        Id = id;
    }

    /// <summary>The topic of a node without topics, and of secure-gossip 0.3.1 peers.</summary>
    public static GossipTopic Default { get; } = new(DefaultName, null);

    /// <summary>The name the application gave it.</summary>
    public string Name { get; }

    /// <summary>The id links and messages carry: 64 lowercase hex digits; <see langword="null"/> for <see cref="Default"/>.</summary>
    public string? Id { get; }

    /// <summary>Whether this is <see cref="Default"/>.</summary>
    public bool IsDefault => Id is null;

    /// <summary>The topic named <paramref name="name"/>; <c>default</c> is <see cref="Default"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty, only white space, longer than <see cref="MaxNameBytes"/> bytes, or has a control character.</exception>
    public static GossipTopic FromName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("A topic name must not be empty or only white space.", nameof(name));
        }

        if (name.Any(char.IsControl))
        {
            throw new ArgumentException($"The topic name \"{name.ReplaceLineEndings(" ")}\" has a control character.", nameof(name));
        }

        int length = Encoding.UTF8.GetByteCount(name);
        if (length > MaxNameBytes)
        {
            throw new ArgumentException($"A topic name is at most {MaxNameBytes} bytes in UTF-8; this one is {length}.", nameof(name));
        }

        if (name == DefaultName)
        {
            return Default;
        }

        byte[] input = new byte[IdPrefix.Length + length];
        IdPrefix.CopyTo(input);
        Encoding.UTF8.GetBytes(name, input.AsSpan(IdPrefix.Length));
        return new GossipTopic(name, Convert.ToHexStringLower(SHA256.HashData(input)));
    }

    /// <summary>Whether <paramref name="id"/> is in the form of a topic id (64 lowercase hex digits).</summary>
    public static bool IsId(ReadOnlySpan<char> id) => id.Length == 64 && !id.ContainsAnyExcept("0123456789abcdef");

    /// <inheritdoc/>
    public bool Equals(GossipTopic? other) => other is not null && Id == other.Id;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as GossipTopic);

    /// <inheritdoc/>
    public override int GetHashCode() => Id?.GetHashCode(StringComparison.Ordinal) ?? 0;

    /// <summary>The name, and the start of the id for a topic other than the default.</summary>
    public override string ToString() => IsDefault ? Name : $"{Name} ({Id![..12]}…)";
}
