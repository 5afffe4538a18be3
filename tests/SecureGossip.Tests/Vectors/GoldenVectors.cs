using System.Text.Json;

namespace SecureGossip.Tests.Vectors;

/// <summary>
/// The golden data in vectors.json, made by the real ssb-keys 8.5.0 and secure-gossip 0.3.1 under node
/// (regenerate with <c>node tests/SecureGossip.Tests/Vectors/generate-vectors.js</c>).
/// </summary>
internal static class GoldenVectors
{
    private static readonly Lazy<JsonElement> s_root = new(() =>
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Vectors", "vectors.json");
        using FileStream stream = File.OpenRead(path);
        return JsonDocument.Parse(stream).RootElement.Clone();
    });

    public static JsonElement Root => s_root.Value;

    public static IEnumerable<JsonElement> Section(string name) => Root.GetProperty(name).EnumerateArray();

    public static JsonElement Named(string section, string name) =>
        Section(section).Single(e => e.GetProperty("name").GetString() == name);

    public static TheoryData<string> Names(string section)
    {
        var data = new TheoryData<string>();
        foreach (JsonElement e in Section(section))
        {
            data.Add(e.GetProperty("name").GetString()!);
        }

        return data;
    }

    public static byte[] Bytes(JsonElement e, string property) => Convert.FromBase64String(e.GetProperty(property).GetString()!);
}
