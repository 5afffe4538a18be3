using SecureGossip.Engine;
using SecureGossip.Protocol;

namespace SecureGossip.Links;

/// <summary>What one connection has cost in the current budget window (<see cref="GossipDefenceOptions"/>).</summary>
internal sealed class LinkBudget(NodeServices node, PeerLink link)
{
    private readonly Lock _gate = new();
    private long _windowStart = node.Time.GetTimestamp();
    private int _invalidSignatures;
    private int _malformed;
    private int _oversize;
    private long _newAuthors;

    /// <summary>
    /// Author names this link's frames added to the node's table (unsigned: anyone can name any key). Over the
    /// link's lifetime, not per window, because the table is only ever filled, never emptied by time.
    /// </summary>
    public void ChargeNewAuthors(int count)
    {
        int limit = node.Options.Defences.MaxAuthorsIntroducedPerLink;
        if (Interlocked.Add(ref _newAuthors, count) > limit)
        {
            node.Links.Cut(link, $"its frames named more than {limit} authors this node had never seen");
        }
    }

    public void Charge(DropReason reason)
    {
        GossipDefenceOptions limits = node.Options.Defences;
        string? over = null;
        lock (_gate)
        {
            long now = node.Time.GetTimestamp();
            if (now - _windowStart > node.Ticks(limits.BudgetWindow))
            {
                _windowStart = now;
                _invalidSignatures = _malformed = _oversize = 0;
            }

            // What an honest relay may forward is never charged: a JS 0.3.1 peer forwards every message it accepted,
            // and it accepts lines longer or deeper than our limits and a seq of any type. So on v1 links only bytes
            // that are not JSON and invalid signatures count; a v2 peer (a .NET node: same limits, it verifies
            // and checks before it forwards) is held to the frame size it was told in our hello, and to messages.
            bool v2 = link.Version >= 2;
            switch (reason)
            {
                case DropReason.BadKey or DropReason.BadSignature or DropReason.WrongTopic:
                    if (++_invalidSignatures > limits.InvalidSignatureBudget)
                    {
                        over = $"more than {limits.InvalidSignatureBudget} invalid signatures in {limits.BudgetWindow.TotalSeconds:0.#} s";
                    }

                    break;
                case DropReason.TooLong when v2:
                    if (++_oversize > limits.OversizeBudget)
                    {
                        over = $"more than {limits.OversizeBudget} oversize lines in {limits.BudgetWindow.TotalSeconds:0.#} s";
                    }

                    break;
                case DropReason.Malformed:
                case DropReason.NotAMessage or DropReason.TooDeep when v2:
                    if (++_malformed > limits.MalformedBudget)
                    {
                        over = $"more than {limits.MalformedBudget} malformed lines or frames in {limits.BudgetWindow.TotalSeconds:0.#} s";
                    }

                    break;
            }
        }

        if (over is not null)
        {
            node.Links.Cut(link, over);
        }
    }
}
