using System.Text.Json;
using System.Text.Json.Nodes;

namespace SecureGossip.Simulation;

/// <summary>One message of an <see cref="OverlaySimulation"/>.</summary>
/// <param name="PublishedMs">When it was published, in ms after the failures began (or after the settle time, with none).</param>
/// <param name="DeliveredRatio">The share of the nodes alive when it was published and at the end (its author aside) that received it.</param>
/// <param name="Rmr">Copies received per delivery, less one.</param>
/// <param name="LastHop">The most links a delivered copy crossed.</param>
/// <param name="LastDeliveryMs">Time from publication to its last delivery.</param>
public sealed record OverlayMessageResult(double PublishedMs, double DeliveredRatio, double Rmr, int LastHop, double LastDeliveryMs);

/// <summary>What an <see cref="OverlaySimulation"/> measured; <see cref="ToJson"/> gives it as the CLI prints it.</summary>
public sealed record OverlaySimulationResult
{
    /// <summary>The run's options.</summary>
    public required OverlaySimulationOptions Options { get; init; }

    /// <summary>Nodes alive at the end.</summary>
    public int NodesAtEnd { get; init; }

    /// <summary>Nodes ever started (churn adds new ones).</summary>
    public int NodesStarted { get; init; }

    /// <summary>Whether the live nodes' active views formed one component just before the failures.</summary>
    public bool ConnectedBeforeFailures { get; init; }

    /// <summary>Components of the overlay just before the failures.</summary>
    public int ComponentsBeforeFailures { get; init; }

    /// <summary>Whether the overlay of the live nodes was one component at the end.</summary>
    public bool ConnectedAtEnd { get; init; }

    /// <summary>Components at the end.</summary>
    public int ComponentsAtEnd { get; init; }

    /// <summary>Time from the failures until the overlay of the live nodes was one component for good (checked every 100 ms); null if it never was.</summary>
    public double? HealMs { get; init; }

    /// <summary>The share of the checks after the failures began that found the overlay connected.</summary>
    public double ConnectedShareAfterFailures { get; init; }

    /// <summary>Mean active view size of the live nodes at the end.</summary>
    public double ActiveDegreeMean { get; init; }

    /// <summary>Smallest active view of a live node at the end.</summary>
    public int ActiveDegreeMin { get; init; }

    /// <summary>Largest active view of a live node at the end.</summary>
    public int ActiveDegreeMax { get; init; }

    /// <summary>Mean passive view size of the live nodes at the end.</summary>
    public double PassiveMean { get; init; }

    /// <summary>Every message, in publication order.</summary>
    public required IReadOnlyList<OverlayMessageResult> Messages { get; init; }

    /// <summary>HyParView frames sent.</summary>
    public long MembershipFrames { get; init; }

    /// <summary>Bytes of HyParView frames sent (estimated sizes).</summary>
    public long MembershipBytes { get; init; }

    /// <summary>All frames sent.</summary>
    public long Frames { get; init; }

    /// <summary>Signature verifications (one per first copy).</summary>
    public long Verifications { get; init; }

    /// <summary>Events dispatched.</summary>
    public long Events { get; init; }

    /// <summary>Virtual time simulated.</summary>
    public double VirtualMs { get; init; }

    /// <summary>Real time the run took.</summary>
    public double WallMs { get; init; }

    /// <summary>The smallest delivered ratio of the messages published at or after <paramref name="fromMs"/> (1 if none).</summary>
    public double MinDeliveredRatioFrom(double fromMs) =>
        Messages.Where(m => m.PublishedMs >= fromMs).Select(m => m.DeliveredRatio).DefaultIfEmpty(1).Min();

    /// <summary>The figures as one JSON object (snake_case keys), messages summarised, and listed when <paramref name="perMessage"/>.</summary>
    public JsonObject ToJson(bool perMessage = false)
    {
        double healed = HealMs ?? double.PositiveInfinity;
        var afterHeal = Messages.Where(m => m.PublishedMs >= healed).ToList();
        var json = new JsonObject
        {
            ["nodes"] = Options.Nodes,
            ["seed"] = Options.Seed,
            ["dissemination"] = Options.Dissemination,
            ["kill"] = Options.Kill,
            ["churn_per_s"] = Options.Churn,
            ["churn_s"] = Options.Churn > 0 ? Options.ChurnDuration.TotalSeconds : 0,
            ["active_view"] = Options.Membership.ActiveViewSize,
            ["passive_view"] = Options.Membership.PassiveViewSize,
            ["active_walk"] = Options.Membership.ActiveRandomWalkLength,
            ["passive_walk"] = Options.Membership.PassiveRandomWalkLength,
            ["shuffle_ms"] = Options.Membership.ShuffleInterval.TotalMilliseconds,
            ["nodes_started"] = NodesStarted,
            ["nodes_at_end"] = NodesAtEnd,
            ["connected_before_failures"] = ConnectedBeforeFailures,
            ["components_before_failures"] = ComponentsBeforeFailures,
            ["heal_ms"] = HealMs,
            ["connected_share_after_failures"] = Math.Round(ConnectedShareAfterFailures, 4),
            ["connected_at_end"] = ConnectedAtEnd,
            ["components_at_end"] = ComponentsAtEnd,
            ["active_degree_mean"] = Math.Round(ActiveDegreeMean, 3),
            ["active_degree_min"] = ActiveDegreeMin,
            ["active_degree_max"] = ActiveDegreeMax,
            ["passive_mean"] = Math.Round(PassiveMean, 2),
            ["messages"] = Messages.Count,
            ["delivered_ratio_min"] = Messages.Select(m => m.DeliveredRatio).DefaultIfEmpty(1).Min(),
            ["delivered_ratio_mean"] = Math.Round(Messages.Select(m => m.DeliveredRatio).DefaultIfEmpty(1).Average(), 5),
            ["first_message_delivered_ratio"] = Messages.Count > 0 ? Messages[0].DeliveredRatio : null,
            ["messages_after_heal"] = afterHeal.Count,
            ["delivered_ratio_after_heal"] = afterHeal.Count > 0 ? afterHeal.Min(m => m.DeliveredRatio) : null,
            ["rmr_after_heal"] = afterHeal.Count > 0 ? Math.Round(afterHeal.Average(m => m.Rmr), 4) : null,
            ["ldh_after_heal"] = afterHeal.Count > 0 ? Math.Round(afterHeal.Average(m => m.LastHop), 2) : null,
            ["time_to_last_after_heal_ms"] = afterHeal.Count > 0 ? Math.Round(afterHeal.Average(m => m.LastDeliveryMs), 1) : null,
            ["membership_frames"] = MembershipFrames,
            ["membership_bytes"] = MembershipBytes,
            ["frames"] = Frames,
            ["verifications"] = Verifications,
            ["events"] = Events,
            ["virtual_ms"] = VirtualMs,
            ["wall_ms"] = Math.Round(WallMs),
        };
        if (perMessage)
        {
            json["per_message"] = JsonSerializer.SerializeToNode(Messages.Select(m => new JsonObject
            {
                ["published_ms"] = m.PublishedMs,
                ["delivered_ratio"] = Math.Round(m.DeliveredRatio, 5),
                ["rmr"] = Math.Round(m.Rmr, 4),
                ["ldh"] = m.LastHop,
                ["last_delivery_ms"] = Math.Round(m.LastDeliveryMs, 1),
            }).ToList());
        }

        return json;
    }
}
