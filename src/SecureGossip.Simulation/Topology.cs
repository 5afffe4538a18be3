using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace SecureGossip.Simulation;

/// <summary>
/// An undirected simple graph over the simulated nodes <c>0..N-1</c>, kept as compressed adjacency arrays
/// (each node's neighbours sorted, one <see cref="int"/> per link end), so 10,000 nodes cost a few hundred KiB.
/// </summary>
/// <remarks>
/// Specs: <c>line</c>, <c>ring</c>, <c>random-regular:K</c>, <c>scale-free:M</c> (see <see cref="Create"/>).
/// Random ones are deterministic for a seed and always connected.
/// </remarks>
public sealed partial class Topology
{
    private readonly int[] _offsets;
    private readonly int[] _adjacency;

    private Topology(string name, int[] offsets, int[] adjacency)
    {
        Name = name;
        _offsets = offsets;
        _adjacency = adjacency;
    }

    /// <summary>The spec the graph was made from, such as <c>random-regular:4</c>.</summary>
    public string Name { get; }

    /// <summary>Number of nodes.</summary>
    public int NodeCount => _offsets.Length - 1;

    /// <summary>Number of undirected edges (links).</summary>
    public int EdgeCount => _adjacency.Length / 2;

    /// <summary>Bytes held by the adjacency arrays.</summary>
    internal long SizeBytes => (_offsets.LongLength + _adjacency.LongLength) * sizeof(int);

    /// <summary>The neighbours of <paramref name="node"/>, in ascending order.</summary>
    public ReadOnlySpan<int> Neighbours(int node) => _adjacency.AsSpan(_offsets[node], _offsets[node + 1] - _offsets[node]);

    /// <summary>The number of neighbours of <paramref name="node"/>.</summary>
    public int Degree(int node) => _offsets[node + 1] - _offsets[node];

    /// <summary>Whether every node can reach every other node.</summary>
    public bool IsConnected()
    {
        int n = NodeCount;
        if (n <= 1)
        {
            return true;
        }

        var seen = new bool[n];
        var queue = new int[n];
        int head = 0, tail = 0;
        seen[0] = true;
        queue[tail++] = 0;
        while (head < tail)
        {
            foreach (int next in Neighbours(queue[head++]))
            {
                if (!seen[next])
                {
                    seen[next] = true;
                    queue[tail++] = next;
                }
            }
        }

        return tail == n;
    }

    /// <summary>
    /// Builds the graph a spec names: <c>line</c> (N−1 links), <c>ring</c> (N links, N ≥ 3),
    /// <c>random-regular:K</c> (a uniformly shuffled simple connected K-regular graph; 2 ≤ K &lt; N, N·K even),
    /// <c>scale-free:M</c> (Barabási–Albert preferential attachment: a clique of M+1 nodes, then each new node
    /// links to M distinct nodes chosen with probability proportional to their degree; 1 ≤ M &lt; N).
    /// </summary>
    /// <exception cref="ArgumentException">The spec is unknown or does not fit <paramref name="nodes"/>; the message says why.</exception>
    public static Topology Create(string spec, int nodes, int seed)
    {
        string? error = Check(spec, nodes, out string kind, out int parameter);
        if (error is not null)
        {
            throw new ArgumentException(error, nameof(spec));
        }

        return kind switch
        {
            "line" => Line(nodes),
            "ring" => Ring(nodes),
            "random-regular" => RandomRegular(nodes, parameter, seed),
            _ => ScaleFree(nodes, parameter, seed),
        };
    }

    /// <summary>Why <paramref name="spec"/> cannot make a graph of <paramref name="nodes"/> nodes, or <see langword="null"/> if it can.</summary>
    public static string? Validate(string spec, int nodes) => Check(spec, nodes, out _, out _);

    /// <summary>A path 0 − 1 − … − (N−1).</summary>
    public static Topology Line(int nodes)
    {
        ThrowIfTooFew(nodes, 2, "line");
        var a = new int[nodes - 1];
        var b = new int[nodes - 1];
        for (int i = 0; i < nodes - 1; i++)
        {
            a[i] = i;
            b[i] = i + 1;
        }

        return FromEdgeArrays("line", nodes, a, b);
    }

    /// <summary>A cycle 0 − 1 − … − (N−1) − 0.</summary>
    public static Topology Ring(int nodes)
    {
        ThrowIfTooFew(nodes, 3, "ring");
        var a = new int[nodes];
        var b = new int[nodes];
        for (int i = 0; i < nodes; i++)
        {
            a[i] = i;
            b[i] = (i + 1) % nodes;
        }

        return FromEdgeArrays("ring", nodes, a, b);
    }

    /// <summary>A graph from an explicit list of links; for hand-made test networks.</summary>
    /// <exception cref="ArgumentException">A link names a node out of range, joins a node to itself, or repeats.</exception>
    public static Topology FromEdges(string name, int nodes, IEnumerable<(int A, int B)> edges)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(edges);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nodes);
        var seen = new HashSet<long>();
        var a = new List<int>();
        var b = new List<int>();
        foreach ((int x, int y) in edges)
        {
            if ((uint)x >= (uint)nodes || (uint)y >= (uint)nodes || x == y || !seen.Add(EdgeKey(x, y)))
            {
                throw new ArgumentException($"Link ({x}, {y}) is out of range, a self-loop or a repeat.", nameof(edges));
            }

            a.Add(x);
            b.Add(y);
        }

        return FromEdgeArrays(name, nodes, [.. a], [.. b]);
    }

    /// <summary>The index of the directed link <paramref name="from"/> → <paramref name="to"/> in 0..2E−1, or −1 if they are not neighbours.</summary>
    internal int LinkIndex(int from, int to)
    {
        int start = _offsets[from];
        int i = Array.BinarySearch(_adjacency, start, _offsets[from + 1] - start, to);
        return i >= 0 ? i : -1;
    }

    private static Topology FromEdgeArrays(string name, int nodes, int[] a, int[] b)
    {
        Debug.Assert(a.Length == b.Length);
        var offsets = new int[nodes + 1];
        for (int e = 0; e < a.Length; e++)
        {
            offsets[a[e] + 1]++;
            offsets[b[e] + 1]++;
        }

        for (int v = 0; v < nodes; v++)
        {
            offsets[v + 1] += offsets[v];
        }

        var adjacency = new int[a.Length * 2];
        var fill = offsets[..^1];
        for (int e = 0; e < a.Length; e++)
        {
            adjacency[fill[a[e]]++] = b[e];
            adjacency[fill[b[e]]++] = a[e];
        }

        for (int v = 0; v < nodes; v++)
        {
            Array.Sort(adjacency, offsets[v], offsets[v + 1] - offsets[v]);
        }

        return new Topology(name, offsets, adjacency);
    }

    private static long EdgeKey(int x, int y) => x < y ? ((long)x << 32) | (uint)y : ((long)y << 32) | (uint)x;

    private static void ThrowIfTooFew(int nodes, int minimum, string kind)
    {
        if (nodes < minimum)
        {
            throw new ArgumentOutOfRangeException(nameof(nodes), nodes, $"A {kind} needs at least {minimum} nodes.");
        }
    }

    private static string? Check(string spec, int nodes, out string kind, out int parameter)
    {
        ArgumentNullException.ThrowIfNull(spec);
        parameter = 0;
        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        kind = colon < 0 ? spec : spec[..colon];
        const string Known = "expected line, ring, random-regular:K or scale-free:M";
        switch (kind)
        {
            case "line" or "ring" when colon >= 0:
                return $"topology '{spec}': {kind} takes no parameter ({Known}).";
            case "line":
                return nodes < 2 ? $"topology 'line' needs at least 2 nodes, got {nodes}." : null;
            case "ring":
                return nodes < 3 ? $"topology 'ring' needs at least 3 nodes, got {nodes}." : null;
            case "random-regular" or "scale-free":
                if (colon < 0 || !int.TryParse(spec.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out parameter))
                {
                    return $"topology '{spec}': {kind} needs a whole number after ':' ({Known}).";
                }

                break;
            default:
                return $"unknown topology '{spec}' ({Known}).";
        }

        if (kind == "random-regular")
        {
            if (parameter < 2)
            {
                return $"topology '{spec}': K must be at least 2 for a connected graph.";
            }

            if (parameter >= nodes)
            {
                return $"topology '{spec}': K must be less than the number of nodes ({nodes}).";
            }

            return (long)parameter * nodes % 2 != 0 ? $"topology '{spec}': N·K must be even (N = {nodes}, K = {parameter})." : null;
        }

        if (parameter < 1)
        {
            return $"topology '{spec}': M must be at least 1.";
        }

        return parameter >= nodes ? $"topology '{spec}': M must be less than the number of nodes ({nodes})." : null;
    }

    [DoesNotReturn]
    private static void ThrowCannotBuild(string spec) =>
        throw new InvalidOperationException($"Could not build a simple connected {spec} graph; try another seed.");
}
