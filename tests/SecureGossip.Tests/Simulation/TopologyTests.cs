using SecureGossip.Simulation;

namespace SecureGossip.Tests.Simulation;

public sealed class TopologyTests
{
    [Fact]
    public void Line_and_ring_have_the_expected_links()
    {
        Topology line = Topology.Line(50);
        Assert.Equal(49, line.EdgeCount);
        Assert.Equal([1], line.Neighbours(0).ToArray());
        Assert.Equal([24, 26], line.Neighbours(25).ToArray());
        Assert.Equal([48], line.Neighbours(49).ToArray());
        Assert.True(line.IsConnected());

        Topology ring = Topology.Ring(50);
        Assert.Equal(50, ring.EdgeCount);
        Assert.All(Enumerable.Range(0, 50), v => Assert.Equal(2, ring.Degree(v)));
        Assert.Equal([1, 49], ring.Neighbours(0).ToArray());
        Assert.True(ring.IsConnected());
    }

    [Theory]
    [InlineData(1000, 4)]
    [InlineData(1000, 2)] // a random 2-regular graph is a union of cycles: the repair must join them into one
    [InlineData(100, 3)]
    [InlineData(100, 7)]
    [InlineData(6, 4)]
    [InlineData(5, 4)] // the complete graph
    [InlineData(10, 8)]
    public void Random_regular_graphs_are_simple_regular_and_connected(int nodes, int degree)
    {
        for (int seed = 1; seed <= 5; seed++)
        {
            Topology graph = Topology.Create($"random-regular:{degree}", nodes, seed);
            Assert.Equal($"random-regular:{degree}", graph.Name);
            Assert.Equal(nodes * degree / 2, graph.EdgeCount);
            AssertSimple(graph);
            Assert.All(Enumerable.Range(0, nodes), v => Assert.Equal(degree, graph.Degree(v)));
            Assert.True(graph.IsConnected());
        }
    }

    [Theory]
    [InlineData(1000, 1)]
    [InlineData(1000, 2)]
    [InlineData(1000, 3)]
    [InlineData(4, 3)]
    public void Scale_free_graphs_have_M_links_per_added_node_are_connected_and_have_hubs(int nodes, int m)
    {
        Topology graph = Topology.Create($"scale-free:{m}", nodes, seed: 7);
        Assert.Equal((m * (m + 1) / 2) + ((nodes - m - 1) * m), graph.EdgeCount);
        AssertSimple(graph);
        Assert.All(Enumerable.Range(0, nodes), v => Assert.True(graph.Degree(v) >= m));
        Assert.True(graph.IsConnected());
        if (nodes >= 1000)
        {
            // Preferential attachment makes hubs: far above the mean degree of about 2M.
            Assert.True(Enumerable.Range(0, nodes).Max(graph.Degree) > 10 * 2 * m);
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_graph_and_another_seed_another()
    {
        foreach (string spec in new[] { "random-regular:4", "scale-free:2" })
        {
            Topology a = Topology.Create(spec, 500, 3);
            Topology b = Topology.Create(spec, 500, 3);
            Topology c = Topology.Create(spec, 500, 4);
            Assert.Equal(Links(a), Links(b));
            Assert.NotEqual(Links(a), Links(c));
        }
    }

    [Theory]
    [InlineData("star", 10, "unknown topology 'star'")]
    [InlineData("line:3", 10, "line takes no parameter")]
    [InlineData("ring", 2, "at least 3 nodes")]
    [InlineData("random-regular", 10, "needs a whole number")]
    [InlineData("random-regular:x", 10, "needs a whole number")]
    [InlineData("random-regular:-1", 10, "needs a whole number")]
    [InlineData("random-regular:10", 10, "K must be less than the number of nodes (10)")]
    [InlineData("random-regular:1", 10, "K must be at least 2")]
    [InlineData("random-regular:3", 9, "N·K must be even")]
    [InlineData("scale-free:0", 10, "M must be at least 1")]
    [InlineData("scale-free:10", 10, "M must be less than the number of nodes")]
    public void Bad_specs_are_refused_with_the_reason(string spec, int nodes, string reason)
    {
        Assert.Contains(reason, Topology.Validate(spec, nodes), StringComparison.Ordinal);
        ArgumentException e = Assert.Throws<ArgumentException>(() => Topology.Create(spec, nodes, 1));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Good_specs_validate()
    {
        Assert.Null(Topology.Validate("line", 2));
        Assert.Null(Topology.Validate("ring", 3));
        Assert.Null(Topology.Validate("random-regular:4", 5));
        Assert.Null(Topology.Validate("scale-free:1", 2));
    }

    [Fact]
    public void FromEdges_refuses_self_loops_and_repeats()
    {
        Assert.Throws<ArgumentException>(() => Topology.FromEdges("x", 3, [(0, 0)]));
        Assert.Throws<ArgumentException>(() => Topology.FromEdges("x", 3, [(0, 1), (1, 0)]));
        Assert.Throws<ArgumentException>(() => Topology.FromEdges("x", 3, [(0, 3)]));
        Assert.False(Topology.FromEdges("x", 3, [(0, 1)]).IsConnected());
    }

    private static void AssertSimple(Topology graph)
    {
        for (int v = 0; v < graph.NodeCount; v++)
        {
            int[] neighbours = graph.Neighbours(v).ToArray();
            Assert.DoesNotContain(v, neighbours);
            Assert.Equal(neighbours.Length, neighbours.Distinct().Count());
            Assert.All(neighbours, u => Assert.Contains(v, graph.Neighbours(u).ToArray()));
        }
    }

    private static List<(int, int)> Links(Topology graph) =>
        [.. Enumerable.Range(0, graph.NodeCount).SelectMany(v => graph.Neighbours(v).ToArray().Where(u => u > v).Select(u => (v, u)))];
}
