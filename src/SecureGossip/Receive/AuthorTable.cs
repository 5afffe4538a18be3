using SecureGossip.Crypto;

namespace SecureGossip.Receive;

/// <summary>
/// The authors of lines in flight and of accepted messages, by spelling, with their imported keys. Owned by the
/// node's actor. Bounded by <see cref="GossipDefenceOptions.MaxAuthors"/>: past it the authors with nothing in flight
/// are forgotten (their seq-rule state with them), and an author whose only lines were forged is forgotten at once.
/// </summary>
internal sealed class AuthorTable(int maxAuthors)
{
    private readonly Dictionary<string, AuthorEntry> _byName = new(StringComparer.Ordinal);
    private int _nextNumber;

    public int Count => _byName.Count;

    /// <summary>The author spelled <paramref name="name"/>, adding it (its key imported from <paramref name="rawKey"/>) if new; null when the key does not import.</summary>
    public AuthorEntry? GetOrAdd(ReadOnlySpan<char> name, ReadOnlySpan<byte> rawKey, List<int> forgotten)
    {
        if (_byName.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out AuthorEntry? entry))
        {
            return entry;
        }

        if (!GossipKeys.TryImportPublicKey(rawKey, out NSec.Cryptography.PublicKey? key))
        {
            return null;
        }

        if (_byName.Count >= maxAuthors)
        {
            ForgetIdle(forgotten);
        }

        entry = new AuthorEntry(name.ToString(), key!, rawKey.ToArray(), _nextNumber++);
        _byName.Add(entry.Name, entry);
        return entry;
    }

    /// <summary>Forgets an author whose lines all failed verification, so forgers cannot fill this table.</summary>
    public void ForgetIfForger(AuthorEntry entry, List<int> forgotten)
    {
        if (entry.Claims == 0 && !entry.HasAccepted && _byName.Remove(entry.Name))
        {
            forgotten.Add(entry.Number);
        }
    }

    /// <summary>Forgets a tenth of the table, authors with nothing in flight (their next line is looked up afresh).</summary>
    private void ForgetIdle(List<int> forgotten)
    {
        int target = maxAuthors - Math.Max(1, maxAuthors / 10);
        List<string> idle = [];
        foreach ((string name, AuthorEntry author) in _byName)
        {
            if (_byName.Count - idle.Count <= target)
            {
                break;
            }

            if (author.Claims == 0)
            {
                idle.Add(name);
                forgotten.Add(author.Number);
            }
        }

        foreach (string name in idle)
        {
            _byName.Remove(name);
        }
    }
}
