namespace SecureGossip.Tests.TestSupport;

/// <summary>
/// Tests whose assertions read the heap of the whole test process (GC.GetTotalMemory: the simulator's memory per
/// node): they run alone, so another test's allocations and frees cannot land in their figures.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasuredCollection
{
    public const string Name = "Heap measured";
}
