namespace SecureGossip.Protocol.Membership;

/// <summary>
/// The views' way of picking at random without shuffling a copy: walk the list once from a random index, wrapping
/// around. The index is drawn at the call (one number from the node's random source, none for an empty list), so a
/// seeded run draws the same numbers in the same order whatever the caller then takes.
/// </summary>
internal static class RandomStart
{
    /// <summary>The items of <paramref name="list"/>, each once, from a random one on; the list must not change while it is walked.</summary>
    public static IEnumerable<T> FromRandomStart<T>(this IReadOnlyList<T> list, Random random)
    {
        int start = list.Count == 0 ? 0 : random.Next(list.Count);
        return Walk(list, start);

        static IEnumerable<T> Walk(IReadOnlyList<T> list, int start)
        {
            for (int i = 0; i < list.Count; i++)
            {
                yield return list[(start + i) % list.Count];
            }
        }
    }
}
