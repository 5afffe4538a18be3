using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using NSec.Cryptography;

namespace SecureGossip.Crypto;

/// <summary>
/// An ed25519 key pair in the form ssb-keys (and so secure-gossip) uses: <c>public</c> is
/// <c>"&lt;base64 of 32 bytes&gt;.ed25519"</c>, <c>private</c> the base64 of the 64-byte libsodium secret key
/// (seed followed by public key), <c>id</c> the public key with an <c>@</c> sigil. Keys made by ssb-keys load
/// here and sign identically; files written here load in ssb-keys.
/// </summary>
/// <remarks>
/// The private key lives in NSec's protected memory. <see cref="ToString"/>, exceptions and logs only ever
/// show <see cref="Id"/>. Dispose to zero the secret.
/// </remarks>
public sealed partial class GossipKeys : IDisposable
{
    private const string Curve = "ed25519";
    private static readonly SignatureAlgorithm s_algorithm = SignatureAlgorithm.Ed25519;

    private readonly Key _key;
    private readonly byte[] _publicKey;

    private GossipKeys(Key key)
    {
        _key = key;
        _publicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        Public = Convert.ToBase64String(_publicKey) + "." + Curve;
        Id = "@" + Public;
    }

    /// <summary>The public key as secure-gossip puts it on the wire: <c>"&lt;base64&gt;.ed25519"</c>.</summary>
    public string Public { get; }

    /// <summary>The ssb identity: <see cref="Public"/> with an <c>@</c> sigil.</summary>
    public string Id { get; }

    /// <summary>The raw 32-byte ed25519 public key.</summary>
    public ReadOnlySpan<byte> PublicKey => _publicKey;

    internal NSec.Cryptography.PublicKey NSecPublicKey => _key.PublicKey;

    /// <summary>Creates a fresh key pair from the operating system's random generator.</summary>
    public static GossipKeys Generate()
    {
        Span<byte> seed = stackalloc byte[32];
        RandomNumberGenerator.Fill(seed);
        try
        {
            return FromSeed(seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Creates the key pair libsodium's <c>crypto_sign_seed_keypair</c> derives from a 32-byte seed.</summary>
    /// <exception cref="ArgumentException">The seed is not 32 bytes.</exception>
    public static GossipKeys FromSeed(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != 32)
        {
            throw new ArgumentException($"An ed25519 seed is 32 bytes, not {seed.Length}.", nameof(seed));
        }

        var parameters = new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport };
        return new GossipKeys(Key.Import(s_algorithm, seed, KeyBlobFormat.RawPrivateKey, parameters));
    }

    /// <summary>Reads the ssb-keys key JSON: <c>{"curve":"ed25519","public":…,"private":…,"id":…}</c>.</summary>
    /// <exception cref="FormatException">The JSON is not an ssb-keys ed25519 key pair, or its halves do not match.</exception>
    public static GossipKeys FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        string? curve;
        string? publicText;
        string? privateText;
        try
        {
            using JsonDocument document = JsonDocument.Parse(json);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("The key JSON is not an object.");
            }

            curve = ReadString(root, "curve");
            publicText = ReadString(root, "public");
            privateText = ReadString(root, "private");
        }
        catch (JsonException)
        {
            // The parser's message can quote the input, which holds the secret: say only where it failed.
            throw new FormatException("The key JSON is not valid JSON.");
        }

        if (privateText is null)
        {
            throw new FormatException("The key JSON has no \"private\" key.");
        }

        if (curve is not null && curve != Curve)
        {
            throw new FormatException($"The key curve is \"{curve}\"; only \"ed25519\" is supported.");
        }

        byte[] secret = new byte[96];
        try
        {
            int length = SsbBase64.Decode(privateText, secret);
            if (length != 64)
            {
                throw new FormatException($"The \"private\" key must hold 64 bytes (seed and public key), not {(length < 0 ? "more" : length.ToString(System.Globalization.CultureInfo.InvariantCulture))}.");
            }

            GossipKeys keys = FromSeed(secret.AsSpan(0, 32));
            if (!secret.AsSpan(32, 32).SequenceEqual(keys.PublicKey))
            {
                keys.Dispose();
                throw new FormatException("The \"private\" key does not contain the public key its seed derives.");
            }

            if (publicText is not null)
            {
                Span<byte> publicKey = stackalloc byte[33];
                if (SsbBase64.Decode(publicText, publicKey) != 32 || !publicKey[..32].SequenceEqual(keys.PublicKey))
                {
                    keys.Dispose();
                    throw new FormatException($"The \"public\" key does not match the private key (the private key's public key is {keys.Public}).");
                }
            }

            return keys;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>Reads an ssb-keys secret file (the key JSON surrounded by <c>#</c> comment lines).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file holds no valid key.</exception>
    public static GossipKeys Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string text = File.ReadAllText(path, Encoding.ASCII);
        try
        {
            return FromJson(StripSecretFileComments(text));
        }
        catch (FormatException e)
        {
            throw new FormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Loads the secret file at <paramref name="path"/>, creating it with a fresh key if it does not exist.</summary>
    public static GossipKeys LoadOrCreate(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
        {
            throw new IOException($"The keys path {path} is a directory; give the path of a secret file (created if missing).");
        }

        if (File.Exists(path))
        {
            return Load(path);
        }

        GossipKeys keys = Generate();
        try
        {
            keys.Save(path);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: use theirs, as ssb-keys' loadOrCreate would on a retry.
            keys.Dispose();
            return Load(path);
        }

        return keys;
    }

    /// <summary>
    /// Writes the secret file exactly as ssb-keys' <c>createSync</c> does: owner-read-only, never over an
    /// existing file.
    /// </summary>
    /// <exception cref="IOException">The file already exists.</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead;
        }

        byte[] content = Encoding.ASCII.GetBytes(ToSecretFile());
        try
        {
            using var stream = new FileStream(path, options);
            stream.Write(content);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(content);
        }
    }

    /// <summary>The key JSON with the private key, as <c>JSON.stringify(keys, null, 2)</c> prints it. Keep it secret.</summary>
    public string ToSecretJson()
    {
        byte[] secret = _key.Export(KeyBlobFormat.RawPrivateKey);
        try
        {
            byte[] full = new byte[64];
            secret.CopyTo(full, 0);
            _publicKey.CopyTo(full, 32);
            string privateText = Convert.ToBase64String(full) + "." + Curve;
            CryptographicOperations.ZeroMemory(full);
            return "{\n" +
                $"  \"curve\": \"{Curve}\",\n" +
                $"  \"public\": \"{Public}\",\n" +
                $"  \"private\": \"{privateText}\",\n" +
                $"  \"id\": \"{Id}\"\n" +
                "}";
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>The text of an ssb-keys secret file for this key pair.</summary>
    public string ToSecretFile() =>
        "# WARNING: Never show this to anyone.\n" +
        "# WARNING: Never edit it or use it on multiple devices at once.\n" +
        "#\n" +
        "# This is your SECRET, it gives you magical powers. With your secret you can\n" +
        "# sign your messages so that your friends can verify that the messages came\n" +
        "# from you. If anyone learns your secret, they can use it to impersonate you.\n" +
        "#\n" +
        "# If you use this secret on more than one device you will create a fork and\n" +
        "# your friends will stop replicating your content.\n" +
        "#\n" +
        ToSecretJson() + "\n" +
        "#\n" +
        "# The only part of this file that's safe to share is your public name:\n" +
        "#\n" +
        "#   " + Id;

    /// <summary>Signs <paramref name="data"/>; returns the ssb-keys signature string <c>"&lt;base64&gt;.sig.ed25519"</c>.</summary>
    public string Sign(ReadOnlySpan<byte> data)
    {
        Span<byte> signature = stackalloc byte[64];
        s_algorithm.Sign(_key, data, signature);
        return Convert.ToBase64String(signature) + ".sig." + Curve;
    }

    /// <summary>The raw 64-byte ed25519 signature of <paramref name="data"/>.</summary>
    internal byte[] SignRaw(ReadOnlySpan<byte> data)
    {
        byte[] signature = new byte[64];
        s_algorithm.Sign(_key, data, signature);
        return signature;
    }

    /// <summary>This key pair's curve25519 secret key (for the secret handshake's key agreement). Zero it after use.</summary>
    internal byte[] Curve25519SecretKey()
    {
        byte[] seed = _key.Export(KeyBlobFormat.RawPrivateKey);
        byte[] full = new byte[64];
        try
        {
            seed.CopyTo(full, 0);
            _publicKey.CopyTo(full, 32);
            return Sodium.Curve25519SecretKey(full);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
            CryptographicOperations.ZeroMemory(full);
        }
    }

    /// <summary>Checks an ed25519 signature by the raw 32-byte <paramref name="publicKey"/>.</summary>
    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != 64 || !NSec.Cryptography.PublicKey.TryImport(s_algorithm, publicKey, KeyBlobFormat.RawPublicKey, out NSec.Cryptography.PublicKey? key))
        {
            return false;
        }

        return s_algorithm.Verify(key!, data, signature);
    }

    internal static bool TryImportPublicKey(ReadOnlySpan<byte> publicKey, out NSec.Cryptography.PublicKey? key) =>
        NSec.Cryptography.PublicKey.TryImport(s_algorithm, publicKey, KeyBlobFormat.RawPublicKey, out key);

    internal static bool Verify(NSec.Cryptography.PublicKey publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        s_algorithm.Verify(publicKey, data, signature);

    /// <inheritdoc/>
    public override string ToString() => Id;

    /// <inheritdoc/>
    public void Dispose() => _key.Dispose();

    // ssb-keys' reconstructKeys: drop "#..." comments with the white space before them, join the remaining lines.
    internal static string StripSecretFileComments(string text) =>
        string.Concat(CommentPattern().Replace(text, string.Empty).Split('\n').Where(line => line.Length > 0));

    private static string? ReadString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new FormatException($"The key JSON's \"{name}\" is not a string.");
    }

    [GeneratedRegex(@"\s*#[^\n]*")]
    private static partial Regex CommentPattern();
}
