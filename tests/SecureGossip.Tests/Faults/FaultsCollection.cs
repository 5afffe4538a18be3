namespace SecureGossip.Tests.Faults;

/// <summary>
/// Every fault test runs several real processes: they share one collection that runs alone, so two cores are
/// not oversubscribed and no test's timing is another's fault.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultsCollection
{
    public const string Name = "Faults";
}
