namespace SecureGossip.Simulation;

/// <summary>What the engine and the caller know of a finished run that the metrics do not: the event loop's counts and why it stopped, and the cost of running it.</summary>
/// <param name="Events">Events dispatched.</param>
/// <param name="PeakQueuedEvents">The most events queued at once.</param>
/// <param name="VirtualTime">Virtual time of the last event dispatched.</param>
/// <param name="StopReason">Why the loop stopped (<see cref="SimulationResult.StopReason"/>).</param>
/// <param name="WallTime">Real time the run took.</param>
/// <param name="PeakMemoryBytes">The process's peak working set.</param>
/// <param name="MemoryPerNodeBytes">Memory the run retained at its end, per node.</param>
internal readonly record struct RunTotals(
    long Events,
    int PeakQueuedEvents,
    TimeSpan VirtualTime,
    string StopReason,
    TimeSpan WallTime,
    long PeakMemoryBytes,
    long MemoryPerNodeBytes);
