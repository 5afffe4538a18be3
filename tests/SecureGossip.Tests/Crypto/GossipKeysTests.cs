using System.Text;
using System.Text.Json;
using SecureGossip.Crypto;
using SecureGossip.Tests.Vectors;

namespace SecureGossip.Tests.Crypto;

public sealed class GossipKeysTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sgossip-keys-").FullName;

    public static TheoryData<int> KeyVectors => [0, 1, 2];

    [Theory]
    [MemberData(nameof(KeyVectors))]
    public void A_seed_gives_the_keys_and_signatures_ssb_keys_gives(int index)
    {
        JsonElement vector = GoldenVectors.Section("keys").ElementAt(index);
        JsonElement expected = vector.GetProperty("keys");
        using GossipKeys keys = GossipKeys.FromSeed(Convert.FromHexString(vector.GetProperty("seedHex").GetString()!));

        Assert.Equal(expected.GetProperty("public").GetString(), keys.Public);
        Assert.Equal(expected.GetProperty("id").GetString(), keys.Id);
        Assert.Equal(vector.GetProperty("secretFile").GetString(), keys.ToSecretFile());
        Assert.Equal(vector.GetProperty("signature").GetString(), keys.Sign(Encoding.UTF8.GetBytes(vector.GetProperty("message").GetString()!)));
    }

    [Theory]
    [MemberData(nameof(KeyVectors))]
    public void Key_json_and_secret_files_written_by_ssb_keys_load(int index)
    {
        JsonElement vector = GoldenVectors.Section("keys").ElementAt(index);
        using GossipKeys fromJson = GossipKeys.FromJson(vector.GetProperty("keys").GetRawText());
        string path = Path.Combine(_directory, $"secret{index}");
        File.WriteAllText(path, vector.GetProperty("secretFile").GetString());
        using GossipKeys fromFile = GossipKeys.Load(path);

        Assert.Equal(vector.GetProperty("keys").GetProperty("public").GetString(), fromJson.Public);
        Assert.Equal(fromJson.Public, fromFile.Public);
        Assert.Equal(vector.GetProperty("signature").GetString(), fromFile.Sign(Encoding.UTF8.GetBytes(vector.GetProperty("message").GetString()!)));
    }

    [Fact]
    public void Save_writes_an_owner_only_file_and_never_overwrites()
    {
        using GossipKeys keys = GossipKeys.Generate();
        string path = Path.Combine(_directory, "nested", "secret");
        keys.Save(path);

        using GossipKeys loaded = GossipKeys.Load(path);
        Assert.Equal(keys.Public, loaded.Public);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(path));
        }

        Assert.Throws<IOException>(() => keys.Save(path));
    }

    [Fact]
    public void LoadOrCreate_creates_once_then_loads()
    {
        string path = Path.Combine(_directory, "secret");
        using GossipKeys first = GossipKeys.LoadOrCreate(path);
        using GossipKeys second = GossipKeys.LoadOrCreate(path);
        Assert.Equal(first.Public, second.Public);
    }

    [Fact]
    public void Mismatched_halves_are_refused_without_showing_the_secret()
    {
        using GossipKeys a = GossipKeys.FromSeed(new byte[32]);
        using GossipKeys b = GossipKeys.FromSeed(Enumerable.Repeat((byte)7, 32).ToArray());
        string json = a.ToSecretJson().Replace(a.Public, b.Public, StringComparison.Ordinal);
        string secret = JsonDocument.Parse(a.ToSecretJson()).RootElement.GetProperty("private").GetString()!;

        FormatException error = Assert.Throws<FormatException>(() => GossipKeys.FromJson(json));
        Assert.Contains("does not match", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret[..20], error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_key_json_fails_with_a_message_that_does_not_echo_it()
    {
        const string broken = "{\"curve\":\"ed25519\",\"private\":\"SECRETSECRET";
        FormatException error = Assert.Throws<FormatException>(() => GossipKeys.FromJson(broken));
        Assert.DoesNotContain("SECRET", error.Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => GossipKeys.FromJson("{\"curve\":\"secp256k1\",\"private\":\"AAAA.ed25519\"}"));
        Assert.Throws<ArgumentException>(() => GossipKeys.FromSeed(new byte[31]));
    }

    [Fact]
    public void ToString_shows_only_the_public_id()
    {
        using GossipKeys keys = GossipKeys.Generate();
        Assert.Equal(keys.Id, keys.ToString());
    }

    public void Dispose()
    {
        foreach (string file in Directory.EnumerateFiles(_directory, "*", SearchOption.AllDirectories))
        {
            File.SetAttributes(file, FileAttributes.Normal);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }

        Directory.Delete(_directory, recursive: true);
    }
}
