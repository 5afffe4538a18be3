using System.Diagnostics;

namespace SecureGossip.Simulation;

/// <summary>
/// Runs many gossip nodes in one thread on a virtual clock: a discrete-event simulation over in-memory links
/// with latency, loss and node failure. No real time passes, no timers or threads are used, and the same
/// options (seed included) give the same result.
/// </summary>
/// <remarks>
/// <para>At virtual time 0 every live node starts, then learns its live neighbours. Message i is published
/// at <see cref="SimulationOptions.PublishStart"/> + i × <see cref="SimulationOptions.PublishSpacing"/> by its
/// publisher. A frame sent at t arrives at t + latency, or is lost; a timer set at t fires at t + delay; events
/// at the same instant run in the order they were scheduled.</para>
/// <para>The run stops when, with every message published, either every message has reached every live node
/// connected to its publisher and <see cref="SimulationOptions.QuietTime"/> has passed since, or nothing was
/// sent or delivered for the quiet time; or at <see cref="SimulationOptions.MaxTime"/>; or when no event is
/// left.</para>
/// </remarks>
public static class Simulator
{
    /// <summary>Runs one simulation to its end and measures it.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message says which.</exception>
    public static SimulationResult Run(SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        long before = GC.GetTotalMemory(forceFullCollection: true);
        long started = Stopwatch.GetTimestamp();
        var engine = new SimulationEngine(options);
        engine.Run();
        TimeSpan wall = Stopwatch.GetElapsedTime(started);

        // What the run holds at its end, the topology (built before) included; the engine is still reachable.
        long retained = GC.GetTotalMemory(forceFullCollection: true) - before + options.Topology.SizeBytes;
        long peak;
        using (var process = Process.GetCurrentProcess())
        {
            peak = process.PeakWorkingSet64;
        }

        SimulationResult result = engine.Result(wall, peak, Math.Max(0, retained) / options.Topology.NodeCount);
        GC.KeepAlive(engine);
        return result;
    }
}
