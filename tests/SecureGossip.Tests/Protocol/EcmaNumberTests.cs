using System.Text;
using SecureGossip.Protocol;

namespace SecureGossip.Tests.Protocol;

public sealed class EcmaNumberTests
{
    [Theory]
    [InlineData(0d, "0")]
    [InlineData(1e21, "1e+21")]
    [InlineData(1e20, "100000000000000000000")]
    [InlineData(1e-7, "1e-7")]
    [InlineData(1e-6, "0.000001")]
    [InlineData(5e-324, "5e-324")]
    [InlineData(double.MaxValue, "1.7976931348623157e+308")]
    [InlineData(9007199254740993d, "9007199254740992")]
    [InlineData(0.1, "0.1")]
    [InlineData(-12.5, "-12.5")]
    [InlineData(123e-20, "1.23e-18")]
    [InlineData(1.5e300, "1.5e+300")]
    [InlineData(double.PositiveInfinity, "null")]
    [InlineData(double.NegativeInfinity, "null")]
    public void Formats_as_Number_toString(double value, string expected)
    {
        Span<byte> buffer = stackalloc byte[EcmaNumber.MaxLength];
        int written = EcmaNumber.Format(value, buffer);
        Assert.Equal(expected, Encoding.ASCII.GetString(buffer[..written]));
    }
}
