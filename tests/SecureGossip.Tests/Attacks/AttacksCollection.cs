namespace SecureGossip.Tests.Attacks;

/// <summary>
/// Attack tests measure the heap of the whole test process (GC.GetTotalMemory) and open hundreds of sockets: they run
/// in one collection that runs alone, so no other test's allocations land in their figures.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AttacksCollection
{
    public const string Name = "Attacks";
}
