using SecureGossip.Engine;
using SecureGossip.Protocol.Flood;
using System.Diagnostics;
using SecureGossip.Protocol.Core;

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
/// sent or delivered for the quiet time (neither before a scheduled <see cref="SimulationOptions.HealTime"/>);
/// or at <see cref="SimulationOptions.MaxTime"/>; or when no event is left.</para>
/// <para>The protocol is <see cref="SimulationOptions.Protocol"/>, or else the <see cref="ProtocolRegistry"/> entry
/// named <see cref="SimulationOptions.ProtocolName"/>.</para>
/// </remarks>
public static class Simulator
{
    /// <summary>
    /// The heap after a full collection whose finalizers (and the pools' trimming, which runs after a gen-2 collection)
    /// have finished, then one more: so memory freed late by what ran before the simulation does not land in its figure.
    /// </summary>
    private static long SettledHeap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>Runs one simulation to its end and measures it.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message says which.</exception>
    public static SimulationResult Run(SimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        long before = SettledHeap();
        long started = Stopwatch.GetTimestamp();
        var engine = new SimulationEngine(options);
        engine.Run();
        TimeSpan wall = Stopwatch.GetElapsedTime(started);

        // What the run holds at its end, the topology (built before) included; the engine is still reachable.
        long retained = SettledHeap() - before + options.Topology.SizeBytes;
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

/// <summary>
/// What a registered protocol's factory is told about the node it makes (one call per live node, in node order,
/// before the run starts).
/// </summary>
public sealed class ProtocolSetup
{
    /// <summary>The node the state is for (<see cref="IGossipContext.Self"/> during the run).</summary>
    public required int Node { get; init; }

    /// <summary>Nodes in the network.</summary>
    public required int NodeCount { get; init; }

    /// <summary>The network; its neighbours of <see cref="Node"/> are the links that may come up.</summary>
    public required Topology Topology { get; init; }

    /// <summary>The run's seed.</summary>
    public required int Seed { get; init; }

    /// <summary>
    /// The round or tick interval asked for (<c>--interval-ms</c>, <see cref="SimulationOptions.ProtocolInterval"/>);
    /// <see langword="null"/>: use the protocol's own default.
    /// </summary>
    public TimeSpan? Interval { get; init; }

    /// <summary>
    /// A random source for choices made while building the state, derived from the seed and shared by every
    /// node's factory call of the run (calls come in node order, so the draws are reproducible). During the run a
    /// protocol draws from <see cref="IGossipContext.Random"/> instead.
    /// </summary>
    public required Random Random { get; init; }
}

/// <summary>
/// The protocols a simulation can name (<c>sgossip sim --protocol NAME</c>,
/// <see cref="SimulationOptions.ProtocolName"/>). <c>v1</c> is always there.
/// </summary>
/// <remarks>
/// <para>A protocol in this assembly registers itself by implementing the partial method
/// <c>static partial void RegisterBuiltIns()</c> in a <c>public static partial class ProtocolRegistry</c> of its
/// own file, calling <see cref="Register"/> from it; it runs once, the first time the registry is used, so
/// <c>sgossip sim --help</c> lists it. Any other code (another assembly, a test) calls <see cref="Register"/>
/// before the run.</para>
/// <para>Thread-safe.</para>
/// </remarks>
public static partial class ProtocolRegistry
{
    private static readonly Lock Gate = new();
    private static readonly SortedDictionary<string, (Func<ProtocolSetup, IGossipProtocol> Factory, string Description)> Entries = new(StringComparer.Ordinal);

    static ProtocolRegistry()
    {
        Register("v1", setup => GossipEngine.CreateV1(setup.Interval ?? V1FloodProtocol.DefaultInterval), "secure-gossip 0.3.1 flood; a round every --interval-ms, default 100");
        RegisterBuiltIns();
    }

    /// <summary>The registered names, in ordinal order.</summary>
    public static IReadOnlyList<string> Names
    {
        get
        {
            lock (Gate)
            {
                return [.. Entries.Keys];
            }
        }
    }

    /// <summary>Adds a protocol under <paramref name="name"/>.</summary>
    /// <param name="name">What <c>--protocol</c> names it: letters, digits, '-', '_' or '.'.</param>
    /// <param name="factory">Makes one node's state; called once per live node.</param>
    /// <param name="description">One line for <c>sgossip sim --help</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is malformed or already registered.</exception>
    public static void Register(string name, Func<ProtocolSetup, IGossipProtocol> factory, string description = "")
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(description);
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException($"A protocol name may hold letters, digits, '-', '_' and '.' only; got '{name}'.", nameof(name));
        }

        lock (Gate)
        {
            if (!Entries.TryAdd(name, (factory, description)))
            {
                throw new ArgumentException($"A protocol named '{name}' is already registered.", nameof(name));
            }
        }
    }

    /// <summary>Whether <paramref name="name"/> is registered.</summary>
    public static bool IsRegistered(string name)
    {
        lock (Gate)
        {
            return Entries.ContainsKey(name);
        }
    }

    /// <summary>The one-line description given to <see cref="Register"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not registered.</exception>
    public static string Description(string name) => Entry(name).Description;

    /// <summary>The factory registered under <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not registered; the message lists the registered names.</exception>
    public static Func<ProtocolSetup, IGossipProtocol> Factory(string name) => Entry(name).Factory;

    /// <summary>"unknown protocol 'x' (known: v1, …)".</summary>
    public static string UnknownProtocolMessage(string name) => $"unknown protocol '{name}' (known: {string.Join(", ", Names)}).";

    /// <summary>Registers the protocols of this assembly other than <c>v1</c> (implemented in their own files).</summary>
    static partial void RegisterBuiltIns();

    private static (Func<ProtocolSetup, IGossipProtocol> Factory, string Description) Entry(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (Gate)
        {
            if (Entries.TryGetValue(name, out var entry))
            {
                return entry;
            }
        }

        throw new ArgumentException(UnknownProtocolMessage(name), nameof(name));
    }
}
