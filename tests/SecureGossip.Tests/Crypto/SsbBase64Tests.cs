using System.Text.Json;
using SecureGossip.Crypto;
using SecureGossip.Tests.Vectors;

namespace SecureGossip.Tests.Crypto;

public sealed class SsbBase64Tests
{
    public static TheoryData<string> Inputs
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (JsonElement e in GoldenVectors.Section("base64"))
            {
                data.Add(e.GetProperty("input").GetString()!);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Decodes_like_ssb_keys_toBuffer_under_node(string input)
    {
        JsonElement vector = GoldenVectors.Section("base64").First(e => e.GetProperty("input").GetString() == input);
        byte[] buffer = new byte[input.Length + 4];
        int length = SsbBase64.Decode(input, buffer);
        Assert.Equal(vector.GetProperty("hex").GetString(), Convert.ToHexStringLower(buffer, 0, length));
    }

    [Fact]
    public void Reports_output_that_does_not_fit()
    {
        Span<byte> small = stackalloc byte[2];
        Assert.Equal(-1, SsbBase64.Decode("AAAAAAAA", small));
    }
}
