namespace SecureGossip.Simulation;

/// <summary>
/// Independent random streams derived from the one seed, so that changing the protocol (which draws from its
/// own stream) leaves the failures, publishers and link draws of the same seed where they were.
/// </summary>
internal static class SeedStreams
{
    public const int Scenario = 1;
    public const int Links = 2;
    public const int Protocol = 3;
    public const int Sampling = 4;
    public const int Partition = 5;
    public const int Setup = 6;

    /// <summary>SplitMix64 of (seed, stream).</summary>
    public static int Derive(int seed, int stream)
    {
        ulong z = ((ulong)(uint)seed << 32 | (uint)stream) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z >> 33);
    }
}
