namespace SecureGossip.Tests.Fuzz;

/// <summary>What a run did.</summary>
internal sealed record FuzzReport(string Target, int Seed, long Inputs, TimeSpan Elapsed, IReadOnlyList<FuzzFailure> Failures, string Detail)
{
    public double InputsPerSecond => Inputs / Math.Max(Elapsed.TotalSeconds, 1e-9);
}
