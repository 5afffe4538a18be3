using System.Diagnostics;
using System.Globalization;

namespace SecureGossip.Tests.TestSupport;

/// <summary>
/// Two Linux network namespaces joined by a veth pair with a /30 between them (10.R.R.1 and 10.R.R.2), created
/// with <c>ip</c> under unique names, deleted on dispose (which also deletes the veth pair). A partition takes
/// both ends of the veth down: packets are dropped silently, no RST, no FIN. Needs root (CI runs as root); a
/// test that cannot create them fails with the reason rather than skipping.
/// </summary>
internal sealed class NetworkNamespacePair : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(20);
    private readonly List<string> _created = [];

    private NetworkNamespacePair(string suffix, int second, int third)
    {
        NameA = $"sgA-{suffix}";
        NameB = $"sgB-{suffix}";
        DeviceA = $"sgva{suffix}"; // interface names are limited to 15 characters
        DeviceB = $"sgvb{suffix}";
        AddressA = $"10.{second}.{third}.1";
        AddressB = $"10.{second}.{third}.2";
    }

    public string NameA { get; }

    public string NameB { get; }

    public string DeviceA { get; }

    public string DeviceB { get; }

    public string AddressA { get; }

    public string AddressB { get; }

    /// <summary>Creates both namespaces, the veth pair, the addresses, and brings every link (and loopback) up.</summary>
    public static async Task<NetworkNamespacePair> CreateAsync()
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException(
                "Network namespace tests need Linux and root (ip netns add, veth); CI runs them as root. Run the tests as root to run them.");
        }

        string suffix = Convert.ToHexString(BitConverter.GetBytes(Random.Shared.Next())).ToLowerInvariant()[..6];
        var pair = new NetworkNamespacePair(suffix, Random.Shared.Next(1, 255), Random.Shared.Next(0, 256));
        try
        {
            foreach (string name in (string[])[pair.NameA, pair.NameB])
            {
                await RunAsync("netns", "add", name);
                pair._created.Add(name);
                await RunAsync("-n", name, "link", "set", "lo", "up");
            }

            await RunAsync("-n", pair.NameA, "link", "add", pair.DeviceA, "type", "veth", "peer", "name", pair.DeviceB, "netns", pair.NameB);
            await RunAsync("-n", pair.NameA, "addr", "add", $"{pair.AddressA}/30", "dev", pair.DeviceA);
            await RunAsync("-n", pair.NameB, "addr", "add", $"{pair.AddressB}/30", "dev", pair.DeviceB);
            await pair.HealAsync();
            return pair;
        }
        catch
        {
            await pair.DisposeAsync();
            throw;
        }
    }

    /// <summary>Takes both ends of the veth down: a silent partition.</summary>
    public async Task PartitionAsync()
    {
        await RunAsync("-n", NameA, "link", "set", DeviceA, "down");
        await RunAsync("-n", NameB, "link", "set", DeviceB, "down");
    }

    /// <summary>Brings both ends up again (the addresses and their routes come back with the link).</summary>
    public async Task HealAsync()
    {
        await RunAsync("-n", NameA, "link", "set", DeviceA, "up");
        await RunAsync("-n", NameB, "link", "set", DeviceB, "up");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (string name in _created)
        {
            try
            {
                await RunAsync("netns", "del", name);
            }
            catch (InvalidOperationException)
            {
                // already gone; nothing else to clean
            }
        }

        _created.Clear();
    }

    private static async Task RunAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("The 'ip' command (Debian package iproute2) is missing: network namespace tests need it.", e);
        }

        using (process)
        {
            Task<string> error = process.StandardError.ReadToEndAsync();
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(CommandTimeout);
            if (process.ExitCode != 0)
            {
                string said = $"{(await error).Trim()} {(await output).Trim()}";
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"ip {string.Join(' ', arguments)} failed with exit code {process.ExitCode}: {said}"));
            }
        }
    }
}
