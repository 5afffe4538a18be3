using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace SecureGossip.Tests.Faults;

/// <summary>One stdout line of a node, <c>{"from":"KEY","seq":S,"data":{"n":N,…}}</c>.</summary>
internal sealed record ReceivedLine(string From, long Seq, int N, string Line)
{
    public static bool TryParse(string line, [NotNullWhen(true)] out ReceivedLine? received)
    {
        received = null;
        try
        {
            using JsonDocument document = JsonDocument.Parse(line);
            JsonElement root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("from", out JsonElement from) && from.ValueKind == JsonValueKind.String
                && root.TryGetProperty("seq", out JsonElement seq) && seq.TryGetInt64(out long sequence)
                && root.TryGetProperty("data", out JsonElement data) && data.ValueKind == JsonValueKind.Object
                && data.TryGetProperty("n", out JsonElement n) && n.TryGetInt32(out int number))
            {
                received = new ReceivedLine(from.GetString()!.TrimStart('@'), sequence, number, line);
                return true;
            }
        }
        catch (JsonException)
        {
        }

        return false;
    }
}
