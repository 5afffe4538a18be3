namespace SecureGossip.Simulation;

/// <summary>Breadth-first searches over the nodes of a topology that are alive.</summary>
internal static class GraphStatistics
{
    /// <summary>Above this many live nodes the mean shortest path is estimated from a sample of sources.</summary>
    public const int ExactLimit = 2000;

    /// <summary>Sources sampled for big graphs.</summary>
    public const int SampledSources = 200;

    /// <summary>Labels each live node with its component (dead nodes −1); returns each component's size.</summary>
    public static int[] Components(Topology topology, bool[] alive, out int[] label)
    {
        int n = topology.NodeCount;
        label = new int[n];
        Array.Fill(label, -1);
        var sizes = new List<int>();
        var queue = new int[n];
        for (int s = 0; s < n; s++)
        {
            if (!alive[s] || label[s] >= 0)
            {
                continue;
            }

            int id = sizes.Count;
            int head = 0, tail = 0;
            label[s] = id;
            queue[tail++] = s;
            while (head < tail)
            {
                foreach (int next in topology.Neighbours(queue[head++]))
                {
                    if (alive[next] && label[next] < 0)
                    {
                        label[next] = id;
                        queue[tail++] = next;
                    }
                }
            }

            sizes.Add(tail);
        }

        return [.. sizes];
    }

    /// <summary>
    /// The mean hop distance over ordered pairs of distinct live nodes that can reach each other through live
    /// nodes: exact up to <see cref="ExactLimit"/> live nodes, else from <see cref="SampledSources"/> seeded
    /// random sources. <see langword="null"/> when no pair is connected.
    /// </summary>
    public static double? MeanShortestPath(Topology topology, bool[] alive, int seed)
    {
        int n = topology.NodeCount;
        int[] live = [.. Enumerable.Range(0, n).Where(v => alive[v])];
        int[] sources = live;
        if (live.Length > ExactLimit)
        {
            var random = new Random(seed);
            sources = (int[])live.Clone();
            for (int i = 0; i < SampledSources; i++)
            {
                int j = random.Next(i, sources.Length);
                (sources[i], sources[j]) = (sources[j], sources[i]);
            }

            sources = sources[..SampledSources];
        }

        var distance = new int[n];
        var queue = new int[n];
        long pairs = 0;
        long total = 0;
        foreach (int s in sources)
        {
            Array.Fill(distance, -1);
            int head = 0, tail = 0;
            distance[s] = 0;
            queue[tail++] = s;
            while (head < tail)
            {
                int v = queue[head++];
                foreach (int next in topology.Neighbours(v))
                {
                    if (alive[next] && distance[next] < 0)
                    {
                        distance[next] = distance[v] + 1;
                        total += distance[next];
                        queue[tail++] = next;
                    }
                }
            }

            pairs += tail - 1;
        }

        return pairs == 0 ? null : (double)total / pairs;
    }

    /// <summary>
    /// A breadth-first search from <paramref name="source"/> over live nodes: its eccentricity (largest distance
    /// to a node it reaches; 0 if it reaches none), the sum of those distances, and how many nodes it reaches
    /// (itself excluded). <paramref name="distance"/> and <paramref name="queue"/> are scratch arrays of N slots.
    /// </summary>
    public static (int Eccentricity, long DistanceSum, int Reached) FromSource(Topology topology, bool[] alive, int source, int[] distance, int[] queue)
    {
        Array.Fill(distance, -1);
        int head = 0, tail = 0, eccentricity = 0;
        long sum = 0;
        distance[source] = 0;
        queue[tail++] = source;
        while (head < tail)
        {
            int v = queue[head++];
            foreach (int next in topology.Neighbours(v))
            {
                if (alive[next] && distance[next] < 0)
                {
                    int d = distance[v] + 1;
                    distance[next] = d;
                    sum += d;
                    eccentricity = Math.Max(eccentricity, d);
                    queue[tail++] = next;
                }
            }
        }

        return (eccentricity, sum, tail - 1);
    }

    /// <summary>
    /// One side of a partition: ⌊N/2⌋ nodes taken in breadth-first order over the whole topology (dead nodes
    /// included) from <paramref name="start"/>, neighbours in adjacency order; if that component is exhausted
    /// first, the search continues from the lowest-numbered node not yet taken.
    /// </summary>
    public static bool[] GrowHalf(Topology topology, int start)
    {
        int n = topology.NodeCount;
        int want = n / 2;
        var side = new bool[n];
        var queue = new int[n];
        int head = 0, tail = 0, taken = 0, nextStart = 0;
        side[start] = true;
        queue[tail++] = start;
        taken++;
        while (taken < want)
        {
            if (head == tail)
            {
                while (side[nextStart])
                {
                    nextStart++;
                }

                side[nextStart] = true;
                queue[tail++] = nextStart;
                taken++;
                continue;
            }

            foreach (int next in topology.Neighbours(queue[head++]))
            {
                if (taken < want && !side[next])
                {
                    side[next] = true;
                    queue[tail++] = next;
                    taken++;
                }
            }
        }

        return side;
    }
}
