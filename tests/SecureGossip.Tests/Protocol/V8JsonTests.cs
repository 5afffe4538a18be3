using System.Text;
using System.Text.Json;
using SecureGossip.Protocol;
using SecureGossip.Tests.Vectors;

namespace SecureGossip.Tests.Protocol;

public sealed class V8JsonTests
{
    public static TheoryData<string> CanonicalCases => GoldenVectors.Names("canonical");

    public static TheoryData<string> InvalidJsonCases => GoldenVectors.Names("invalidJson");

    [Theory]
    [MemberData(nameof(CanonicalCases))]
    public void Matches_ssb_keys_verifyObj_bytes(string name)
    {
        JsonElement vector = GoldenVectors.Named("canonical", name);
        byte[] input = GoldenVectors.Bytes(vector, "input");
        if (vector.TryGetProperty("decodedWithReplacement", out JsonElement replaced) && replaced.GetBoolean())
        {
            input = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(input));
        }

        Assert.Equal(DropReason.None, V1Envelope.Validate(input, 1000));
        int start = JsonText.SkipWhitespace(input, 0);

        using var indented = new ByteBuffer();
        V8Json.Shared.Write(input, start, indented, indented: true, asSignedPayload: true);
        Assert.Equal(Text(GoldenVectors.Bytes(vector, "canonical")), Text(indented.ToArray()));

        using var compact = new ByteBuffer();
        V8Json.Shared.Write(input, start, compact, indented: false, asSignedPayload: true);
        Assert.Equal(Text(GoldenVectors.Bytes(vector, "compact")), Text(compact.ToArray()));
    }

    [Theory]
    [MemberData(nameof(InvalidJsonCases))]
    public void Rejects_what_JSON_parse_rejects(string name)
    {
        byte[] input = GoldenVectors.Bytes(GoldenVectors.Named("invalidJson", name), "input");
        if (!System.Text.Unicode.Utf8.IsValid(input))
        {
            input = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(input));
        }

        Assert.NotEqual(DropReason.None, V1Envelope.Validate(input, 1000));
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("4294967294", 4294967294)]
    [InlineData("4294967295", -1)]
    [InlineData("01", -1)]
    [InlineData("-1", -1)]
    [InlineData("1.0", -1)]
    [InlineData("", -1)]
    public void Array_index_keys_are_those_V8_orders_first(string key, long expected) =>
        Assert.Equal(expected, V8Json.ArrayIndex(Encoding.UTF8.GetBytes(key)));

    [Fact]
    public void Large_objects_with_many_duplicates_keep_first_position_and_last_value()
    {
        // Over 16 members takes the hash-sorted path.
        var sb = new StringBuilder("{");
        for (int i = 0; i < 40; i++)
        {
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"\"k{i % 20}\":{i},");
        }

        sb.Append("\"7\":true}");
        byte[] input = Encoding.UTF8.GetBytes(sb.ToString());
        using var output = new ByteBuffer();
        V8Json.Shared.Write(input, 0, output, indented: false, asSignedPayload: false);

        var expected = new StringBuilder("{\"7\":true");
        for (int i = 0; i < 20; i++)
        {
            expected.Append(System.Globalization.CultureInfo.InvariantCulture, $",\"k{i}\":{i + 20}");
        }

        expected.Append('}');
        Assert.Equal(expected.ToString(), Text(output.ToArray()));
    }

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes).Replace("\n", "⏎\n", StringComparison.Ordinal);
}
