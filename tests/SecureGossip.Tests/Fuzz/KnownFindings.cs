using SecureGossip.Protocol;

namespace SecureGossip.Tests.Fuzz;

/// <summary>
/// Bugs the fuzzer found in src/. Both are fixed (the parsers return an error), so nothing is stepped around by
/// default; <see cref="FuzzFindingsTests"/> keeps a reproducer for each. The switch stays for the next finding: a
/// long run can step around a reported bug while it is being fixed and keep looking for new ones.
/// </summary>
internal static class KnownFindings
{
    /// <summary>Whether known findings are stepped around (the console's <c>--include-known</c> turns this off).</summary>
    public static bool Skip { get; set; }

    /// <summary>
    /// Finding 1: <see cref="V2Hello.TryReadHello(ReadOnlySpan{byte}, out string?)"/> reads member names and <c>node</c>
    /// with <c>Utf8JsonReader.GetString()</c>, which throws <see cref="InvalidOperationException"/> (not the
    /// <c>JsonException</c> it catches) on invalid UTF-8 or an escaped lone surrogate (<c>"\ud800"</c>), and the node
    /// hands it the raw line (before its UTF-8 repair) when the line starts like a frame.
    /// </summary>
    /// <param name="line">The line.</param>
    /// <param name="asTheNodeSeesIt">Only lines the node would hand to the hello reader (a frame of more than 8 bytes).</param>
    public static bool HelloThrows(ReadOnlySpan<byte> line, bool asTheNodeSeesIt = true)
    {
        if (!Skip || (asTheNodeSeesIt && !(line.Length > 8 && V2Hello.IsFrame(line[..Math.Min(16, line.Length)]))))
        {
            return false;
        }

        try
        {
            _ = V2Hello.TryReadHello(line, out _);
            return false;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    /// <summary>
    /// Finding 2: <see cref="V2Frames.TryDecode"/> ("never throws on any line") throws <see cref="InvalidOperationException"/>
    /// when a top-level member name holds an escaped lone surrogate (<c>{"sg2":"prune","\udc00":1}</c>):
    /// <c>Utf8JsonReader.ValueTextEquals</c> in ReadMembers transcodes the name and refuses invalid UTF-16.
    /// </summary>
    public static bool FrameDecodeThrows(ReadOnlySpan<byte> line)
    {
        if (!Skip)
        {
            return false;
        }

        try
        {
            _ = V2Frames.TryDecode(line, new V2Authors(), 64, out _, out _);
            return false;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }
}
