namespace SecureGossip.Simulation;

public sealed partial class Topology
{
    private const int Attempts = 100;

    /// <summary>
    /// A random simple connected <paramref name="degree"/>-regular graph: the configuration model (shuffled link
    /// ends paired up), self-loops and repeated links repaired by degree-preserving switches, separate components
    /// joined by switches across them; a fresh pairing if a repair gets stuck.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">2 ≤ K &lt; N with N·K even does not hold.</exception>
    public static Topology RandomRegular(int nodes, int degree, int seed)
    {
        string name = $"random-regular:{degree}";
        if (Check(name, nodes, out _, out _) is { } error)
        {
            throw new ArgumentOutOfRangeException(nameof(degree), degree, error);
        }

        if (degree == nodes - 1)
        {
            return Complete(name, nodes);
        }

        var random = new Random(seed);
        int edges = checked(nodes * degree) / 2;
        var stubs = new int[edges * 2];
        var a = new int[edges];
        var b = new int[edges];
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            for (int i = 0; i < stubs.Length; i++)
            {
                stubs[i] = i / degree;
            }

            random.Shuffle(stubs);
            for (int e = 0; e < edges; e++)
            {
                a[e] = stubs[2 * e];
                b[e] = stubs[(2 * e) + 1];
            }

            if (TryMakeSimple(a, b, random) && TryConnect(nodes, a, b, random))
            {
                return FromEdgeArrays(name, nodes, a, b);
            }
        }

        ThrowCannotBuild(name);
        return null;
    }

    /// <summary>
    /// Barabási–Albert preferential attachment: a clique of <paramref name="edgesPerNode"/>+1 nodes, then each
    /// further node links to <paramref name="edgesPerNode"/> distinct earlier nodes, each picked with probability
    /// proportional to its degree. Connected by construction.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">1 ≤ M &lt; N does not hold.</exception>
    public static Topology ScaleFree(int nodes, int edgesPerNode, int seed)
    {
        string name = $"scale-free:{edgesPerNode}";
        if (Check(name, nodes, out _, out _) is { } error)
        {
            throw new ArgumentOutOfRangeException(nameof(edgesPerNode), edgesPerNode, error);
        }

        int m = edgesPerNode;
        int clique = m + 1;
        int edges = checked((m * clique / 2) + ((nodes - clique) * m));
        var a = new int[edges];
        var b = new int[edges];
        var ends = new int[edges * 2]; // every link end once: a uniform pick is a degree-proportional node
        int count = 0;
        for (int x = 0; x < clique; x++)
        {
            for (int y = x + 1; y < clique; y++)
            {
                a[count] = x;
                b[count] = y;
                ends[2 * count] = x;
                ends[(2 * count) + 1] = y;
                count++;
            }
        }

        var random = new Random(seed);
        var chosen = new int[m];
        for (int v = clique; v < nodes; v++)
        {
            int picked = 0;
            int endCount = count * 2;
            while (picked < m)
            {
                int target = ends[random.Next(endCount)];
                if (Array.IndexOf(chosen, target, 0, picked) < 0)
                {
                    chosen[picked++] = target;
                }
            }

            foreach (int target in chosen)
            {
                a[count] = v;
                b[count] = target;
                ends[2 * count] = v;
                ends[(2 * count) + 1] = target;
                count++;
            }
        }

        return FromEdgeArrays(name, nodes, a, b);
    }

    private static Topology Complete(string name, int nodes)
    {
        int edges = checked(nodes * (nodes - 1)) / 2;
        var a = new int[edges];
        var b = new int[edges];
        int e = 0;
        for (int x = 0; x < nodes; x++)
        {
            for (int y = x + 1; y < nodes; y++)
            {
                a[e] = x;
                b[e] = y;
                e++;
            }
        }

        return FromEdgeArrays(name, nodes, a, b);
    }

    /// <summary>
    /// Replaces each self-loop or repeated link (x, y) and a random good link (c, d) by (x, c) and (y, d), which
    /// keeps every degree; false if some bad link finds no valid partner.
    /// </summary>
    private static bool TryMakeSimple(int[] a, int[] b, Random random)
    {
        int edges = a.Length;
        var present = new HashSet<long>(edges);
        var bad = new List<int>();
        var isBad = new bool[edges];
        for (int e = 0; e < edges; e++)
        {
            if (a[e] == b[e] || !present.Add(EdgeKey(a[e], b[e])))
            {
                bad.Add(e);
                isBad[e] = true;
            }
        }

        foreach (int e in bad)
        {
            bool repaired = false;
            for (int tries = 0; tries < 1000 && !repaired; tries++)
            {
                int f = random.Next(edges);
                if (isBad[f])
                {
                    continue;
                }

                (int c, int d) = random.Next(2) == 0 ? (a[f], b[f]) : (b[f], a[f]);
                int x = a[e], y = b[e];
                long first = EdgeKey(x, c), second = EdgeKey(y, d);
                if (x == c || y == d || first == second || present.Contains(first) || present.Contains(second))
                {
                    continue;
                }

                present.Remove(EdgeKey(a[f], b[f]));
                present.Add(first);
                present.Add(second);
                (a[e], b[e], a[f], b[f]) = (x, c, y, d);
                isBad[e] = false;
                repaired = true;
            }

            if (!repaired)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Joins components with switches: a link (x, y) in one component and (c, d) in another become (x, c) and
    /// (y, d), which keeps degrees and simplicity and merges the two unless both links were bridges.
    /// </summary>
    private static bool TryConnect(int nodes, int[] a, int[] b, Random random)
    {
        var parent = new int[nodes];
        var others = new List<int>();
        for (int round = 0; round < 1000; round++)
        {
            for (int v = 0; v < nodes; v++)
            {
                parent[v] = v;
            }

            int components = nodes;
            for (int e = 0; e < a.Length; e++)
            {
                int ra = Find(parent, a[e]), rb = Find(parent, b[e]);
                if (ra != rb)
                {
                    parent[ra] = rb;
                    components--;
                }
            }

            if (components == 1)
            {
                return true;
            }

            int first = random.Next(a.Length);
            int root = Find(parent, a[first]);
            others.Clear();
            for (int e = 0; e < a.Length; e++)
            {
                if (Find(parent, a[e]) != root)
                {
                    others.Add(e);
                }
            }

            int f = others[random.Next(others.Count)];
            (a[first], b[first], a[f], b[f]) = (a[first], a[f], b[first], b[f]);
        }

        return false;
    }

    private static int Find(int[] parent, int v)
    {
        while (parent[v] != v)
        {
            parent[v] = parent[parent[v]];
            v = parent[v];
        }

        return v;
    }
}
