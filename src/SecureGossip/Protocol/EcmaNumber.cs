using System.Buffers.Text;
using System.Globalization;

namespace SecureGossip.Protocol;

/// <summary>
/// Formats IEEE doubles exactly as ECMAScript's Number::toString (ECMA-262 §6.1.6.1.20), which is what
/// <c>JSON.stringify</c> prints: the shortest digits that round-trip, fixed notation for exponents in
/// [-7, 21), exponent notation (<c>1e+21</c>, <c>1e-7</c>) outside, and <c>-0</c> as <c>0</c>.
/// </summary>
internal static class EcmaNumber
{
    /// <summary>Longest output: sign, 17 digits, point, up to 20 padding zeros or "e+308".</summary>
    public const int MaxLength = 48;

    /// <summary>
    /// Writes the JSON.stringify form of <paramref name="value"/>; non-finite values print as <c>null</c>
    /// (JSON.stringify's rule), which is what a wire number like <c>1e400</c> becomes after JSON.parse.
    /// </summary>
    public static int Format(double value, Span<byte> destination)
    {
        if (!double.IsFinite(value))
        {
            "null"u8.CopyTo(destination);
            return 4;
        }

        if (value == 0)
        {
            destination[0] = (byte)'0';
            return 1;
        }

        // Integers below 2^53 print as plain digits in both .NET and ECMAScript (n <= 21 and k <= n).
        if (Math.Abs(value) < 9007199254740992d && Math.Floor(value) == value)
        {
            bool ok = Utf8Formatter.TryFormat((long)value, destination, out int written);
            System.Diagnostics.Debug.Assert(ok);
            return written;
        }

        // .NET's "R" gives the shortest round-trip digits (since .NET Core 3.0); only the layout differs.
        Span<char> text = stackalloc char[32];
        bool formatted = value.TryFormat(text, out int length, "R", CultureInfo.InvariantCulture);
        System.Diagnostics.Debug.Assert(formatted);
        text = text[..length];

        int pos = 0;
        if (text[0] == '-')
        {
            destination[pos++] = (byte)'-';
            text = text[1..];
        }

        int exponent = 0;
        int e = text.IndexOfAny('E', 'e');
        ReadOnlySpan<char> mantissa = text;
        if (e >= 0)
        {
            exponent = int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mantissa = text[..e];
        }

        // Collect the significant digits s (k of them) and n such that value = 0.s * 10^n.
        Span<byte> digits = stackalloc byte[24];
        int k = 0;
        int pointAt = -1;
        int leadingZeros = 0;
        bool seenNonZero = false;
        for (int i = 0; i < mantissa.Length; i++)
        {
            char c = mantissa[i];
            if (c == '.')
            {
                pointAt = k + leadingZeros;
                continue;
            }

            if (!seenNonZero && c == '0')
            {
                leadingZeros++;
                continue;
            }

            seenNonZero = true;
            digits[k++] = (byte)c;
        }

        int integerDigits = (pointAt < 0 ? k + leadingZeros : pointAt) - leadingZeros;
        while (k > 1 && digits[k - 1] == (byte)'0')
        {
            k--;
        }

        int n = integerDigits + exponent;
        return pos + Layout(digits[..k], n, destination[pos..]);
    }

    private static int Layout(ReadOnlySpan<byte> s, int n, Span<byte> destination)
    {
        int k = s.Length;
        int pos = 0;
        if (k <= n && n <= 21)
        {
            s.CopyTo(destination);
            pos = k;
            destination.Slice(pos, n - k).Fill((byte)'0');
            return n;
        }

        if (0 < n && n <= 21)
        {
            s[..n].CopyTo(destination);
            destination[n] = (byte)'.';
            s[n..].CopyTo(destination[(n + 1)..]);
            return k + 1;
        }

        if (-6 < n && n <= 0)
        {
            destination[0] = (byte)'0';
            destination[1] = (byte)'.';
            destination.Slice(2, -n).Fill((byte)'0');
            s.CopyTo(destination[(2 - n)..]);
            return 2 - n + k;
        }

        destination[pos++] = s[0];
        if (k > 1)
        {
            destination[pos++] = (byte)'.';
            s[1..].CopyTo(destination[pos..]);
            pos += k - 1;
        }

        destination[pos++] = (byte)'e';
        int exp = n - 1;
        destination[pos++] = exp < 0 ? (byte)'-' : (byte)'+';
        Utf8Formatter.TryFormat(Math.Abs(exp), destination[pos..], out int written);
        return pos + written;
    }
}
