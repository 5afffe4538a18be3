namespace SecureGossip.Simulation;

/// <summary>One point of the delivery curve.</summary>
/// <param name="Time">Virtual time since the start of the run.</param>
/// <param name="Fraction">Deliveries to reachable live nodes so far ÷ all such deliveries possible (Σ over messages of the reachable receivers).</param>
public readonly record struct DeliveryPoint(TimeSpan Time, double Fraction);
