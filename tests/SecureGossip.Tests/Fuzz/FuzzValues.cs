using System.Globalization;
using System.Text;

namespace SecureGossip.Tests.Fuzz;

/// <summary>
/// Random JSON values with known meaning: keys, strings full of escape and Unicode edge cases, and numbers whose
/// ECMAScript Number::toString form the generator knows without asking the code under test.
/// </summary>
internal static class FuzzValues
{
    private const string Letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.$@%&+/=";

    // Characters that every layer treats specially: quotes, escapes, controls, DEL, non-ASCII of 2, 3 and 4 bytes,
    // the line and paragraph separators (raw in JSON, not in JS source), BOM, U+FFFD, noncharacters, and both
    // halves of a surrogate pair alone.
    private static readonly string[] s_specials =
    [
        "\"", "\\", "/", "\b", "\f", "\n", "\r", "\t", "\0", "\u0001", "\u001f", "\u007f", "é", "ß", "€", "\u2028", "\u2029",
        "\uFEFF", "\uFFFD", "\uFFFF", "\uFFFE", "😀", "𝄞", "\uD800", "\uDBFF", "\uDC00", "\uDFFF", "\u0300", "\u00A0", "ｱ",
    ];

    private static readonly string[] s_keys =
    [
        "text", "n", "a", "b", "type", "content", "x", "y", "signature2", "seq", "public", "data", "sg2", "id", "", " ",
        "0", "1", "7", "10", "42", "4294967294", "4294967295", "01", "-1", "1.5", "9007199254740993", "é", "\uD800", "😀", "\u0000",
    ];

    /// <summary>Wire text → JSON.stringify of JSON.parse of it, as V8 prints them (fixed points for the model).</summary>
    private static readonly (string Wire, string Canonical)[] s_knownNumbers =
    [
        ("-0", "0"), ("-0.0e5", "0"), ("1e400", "null"), ("-1e400", "null"), ("1e-400", "0"), ("-1e-400", "0"),
        ("1e21", "1e+21"), ("1E+21", "1e+21"), ("1e-7", "1e-7"), ("0.000001", "0.000001"), ("123e-20", "1.23e-18"),
        ("5e-324", "5e-324"), ("1.7976931348623157e308", "1.7976931348623157e+308"), ("0.1", "0.1"),
        ("100000000000000000000", "100000000000000000000"), ("9007199254740993", "9007199254740992"),
        ("123456789012345678901234567890", "1.2345678901234568e+29"), ("2.5e-5", "0.000025"), ("-1.5E+3", "-1500"),
        ("0.30000000000000004", "0.30000000000000004"), ("4.35", "4.35"), ("9007199254740991", "9007199254740991"),
        ("9007199254740992", "9007199254740992"), ("18446744073709551616", "18446744073709552000"), ("1e-6", "0.000001"),
    ];

    public static string Key(Random random) => random.Next(4) switch
    {
        0 => s_keys[random.Next(s_keys.Length)],
        1 => String(random, 6),
        _ => new string([.. Enumerable.Range(0, 1 + random.Next(8)).Select(_ => Letters[random.Next(26)])]),
    };

    /// <summary>A string of up to <paramref name="maxLength"/> pieces: letters mostly, edge characters often.</summary>
    public static string String(Random random, int maxLength = 16)
    {
        var builder = new StringBuilder();
        int length = random.Next(maxLength + 1);
        for (int i = 0; i < length; i++)
        {
            builder.Append(random.Next(3) == 0 ? s_specials[random.Next(s_specials.Length)] : Letters[random.Next(Letters.Length)].ToString());
        }

        return builder.ToString();
    }

    /// <summary>A number with a known canonical form, spelled in one of its many wire forms.</summary>
    public static FuzzJson Number(Random random)
    {
        switch (random.Next(8))
        {
            case 0:
                (string wire, string canonical) = s_knownNumbers[random.Next(s_knownNumbers.Length)];
                return FuzzJson.Number(wire, canonical);
            case 1:
            case 2:
                long small = random.Next(3) == 0 ? random.NextInt64(-(1L << 53) + 1, 1L << 53) : random.Next(-1000, 100_000);
                return Decimal(random, small < 0, small == 0 ? "0" : Math.Abs(small).ToString(CultureInfo.InvariantCulture), 0);
            default:
                // 0.s × 10^n with s of at most 15 significant digits: every such decimal is the shortest spelling
                // of its double (DBL_DIG = 15), so Number::toString prints exactly s laid out by n.
                int k = 1 + random.Next(15);
                var digits = new StringBuilder();
                digits.Append((char)('1' + random.Next(9)));
                for (int i = 1; i < k; i++)
                {
                    digits.Append((char)('0' + random.Next(10)));
                }

                string s = digits.ToString().TrimEnd('0');
                int n = random.Next(5) == 0 ? random.Next(-290, 300) : random.Next(-25, 30);
                return Decimal(random, random.Next(3) == 0, s, n - s.Length);
        }
    }

    /// <summary>The number ±<paramref name="digits"/> × 10^<paramref name="exponent"/>, respelled at random.</summary>
    private static FuzzJson Decimal(Random random, bool negative, string digits, int exponent)
    {
        string sign = negative && digits != "0" ? "-" : string.Empty;
        string canonical = digits == "0" ? "0" : sign + Layout(digits.TrimEnd('0'), digits.TrimEnd('0').Length + exponent + (digits.Length - digits.TrimEnd('0').Length));
        return FuzzJson.Number((negative ? "-" : string.Empty) + Respell(random, digits, exponent), canonical);
    }

    /// <summary>ECMA-262 Number::toString layout of the digits <paramref name="s"/> with the value 0.s × 10^n.</summary>
    internal static string Layout(string s, int n)
    {
        int k = s.Length;
        if (k <= n && n <= 21)
        {
            return s + new string('0', n - k);
        }

        if (0 < n && n <= 21)
        {
            return s[..n] + "." + s[n..];
        }

        if (-6 < n && n <= 0)
        {
            return "0." + new string('0', -n) + s;
        }

        int e = n - 1;
        return (k == 1 ? s : s[0] + "." + s[1..]) + "e" + (e < 0 ? "-" : "+") + Math.Abs(e).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A JSON spelling of digits × 10^exponent: trailing zeros, a moved point, leading "0.000", any exponent form.</summary>
    private static string Respell(Random random, string digits, int exponent)
    {
        if (digits == "0")
        {
            return random.Next(3) switch
            {
                0 => "0",
                1 => "0.000",
                _ => "0e" + random.Next(-5, 5).ToString(CultureInfo.InvariantCulture),
            };
        }

        string d = digits + new string('0', random.Next(4) == 0 ? random.Next(1, 4) : 0);
        int e = exponent - (d.Length - digits.Length);
        string mantissa;
        if (random.Next(4) == 0)
        {
            int zeros = random.Next(4);
            mantissa = "0." + new string('0', zeros) + d;
            e += zeros + d.Length;
        }
        else
        {
            int point = 1 + random.Next(d.Length);
            mantissa = point == d.Length ? d : d[..point] + "." + d[point..];
            e += d.Length - point;
        }

        if (e == 0 && random.Next(2) == 0)
        {
            return mantissa;
        }

        string marker = random.Next(2) == 0 ? "e" : "E";
        string plus = e >= 0 && random.Next(2) == 0 ? "+" : string.Empty;
        return mantissa + marker + plus + e.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A random value of at most <paramref name="depth"/> levels of nesting.</summary>
    public static FuzzJson Value(Random random, int depth)
    {
        int kind = random.Next(depth > 0 ? 9 : 6);
        return kind switch
        {
            0 or 1 => FuzzJson.String(String(random)),
            2 or 3 => Number(random),
            4 => FuzzJson.Literal(random.Next(3) switch { 0 => FuzzJsonKind.True, 1 => FuzzJsonKind.False, _ => FuzzJsonKind.Null }),
            5 => FuzzJson.String(random.Next(2) == 0 ? string.Empty : "plain"),
            6 or 7 => Object(random, depth - 1, random.Next(5)),
            _ => FuzzJson.Array([.. Enumerable.Range(0, random.Next(5)).Select(_ => Value(random, depth - 1))]),
        };
    }

    /// <summary>An object of <paramref name="count"/> members with random keys (repeats and index keys included).</summary>
    public static FuzzJson Object(Random random, int depth, int count)
    {
        var value = FuzzJson.Object();
        for (int i = 0; i < count; i++)
        {
            value.Members.Add(FuzzJson.Member(Key(random), Value(random, depth)));
        }

        return value;
    }
}
