using System.Net;
using System.Net.Sockets;
using SecureGossip.Crypto;
using SecureGossip.Tests.TestSupport;
using SecureGossip.Transports;

namespace SecureGossip.Tests.Attacks;

/// <summary>
/// The other half of the back-off (<see cref="GossipDefenceOptions.BackOff"/>): a peer the node dials itself
/// (<see cref="TcpGossipClient.MaintainAsync"/>) and cuts for forged signatures is not dialled again until its back-off
/// has run out, while the honest pair served by the same node keeps working.
/// </summary>
public sealed class DialBackOffTests
{
    [Fact]
    public async Task A_dialled_peer_that_gets_cut_is_not_dialled_again_before_its_back_off_ends()
    {
        var backOff = TimeSpan.FromSeconds(2); // real time: the client waits it out on the system clock
        IPAddress hostile = IPAddress.Parse("127.0.0.40");
        await using DefenceRig rig = DefenceRig.Start(o => o.Defences.BackOff = backOff);
        DefenceRig.HonestPeer a = await rig.ConnectHonestAsync(DefenceRig.HonestAddress(1));
        DefenceRig.HonestPeer b = await rig.ConnectHonestAsync(DefenceRig.HonestAddress(2));
        await rig.ExchangeAsync(a);

        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        server.Bind(new IPEndPoint(hostile, 0));
        server.Listen(16);
        using var stop = new CancellationTokenSource();
        Task maintaining = TcpGossipClient.MaintainAsync(rig.Victim, server.LocalEndPoint!, cancellationToken: stop.Token);
        using GossipKeys forger = GossipKeys.Generate();
        try
        {
            // First dial: answer with forged signatures until the victim hangs up.
            using (Socket first = await server.AcceptAsync(CancellationToken.None).AsTask().WaitAsync(DefenceRig.LongTimeout))
            {
                await FloodUntilClosedAsync(first, forger);
            }

            await rig.Victim.WaitForStatisticsAsync(s => s.PeersCut == 1, DefenceRig.LongTimeout); // a cut closes the link: its down is posted to the actor after the count
            Assert.True(rig.Victim.IsBackedOff(hostile));
            await rig.ExchangeAsync(b);

            // The second dial comes only once the victim no longer holds the address backed off.
            using Socket second = await server.AcceptAsync(CancellationToken.None).AsTask().WaitAsync(DefenceRig.LongTimeout);
            TimeSpan leftWhenDialled = rig.Victim.BackedOffFor(hostile);
            Assert.Equal(TimeSpan.Zero, leftWhenDialled);
            Assert.Equal(1, rig.Victim.Statistics.PeersCut);
            await rig.ExchangeAsync(a);
            Assert.False(a.Link.IsCompleted || b.Link.IsCompleted, "an honest link was dropped");
        }
        finally
        {
            await stop.CancelAsync();
            await maintaining.WaitAsync(DefenceRig.LongTimeout);
        }
    }

    private static async Task FloodUntilClosedAsync(Socket socket, GossipKeys forger)
    {
        Task reading = DrainAsync(socket);
        try
        {
            for (long batch = 0; !reading.IsCompleted && batch < 100_000; batch++)
            {
                byte[] lines = AttackLines.Join(Enumerable.Range(0, 64).Select(i => AttackLines.ForgedSignature(forger.Public, (batch * 64) + i)));
                await socket.SendAsync(lines, SocketFlags.None);
            }
        }
        catch (SocketException)
        {
            // reset by the victim: cut
        }

        await reading.WaitAsync(DefenceRig.LongTimeout);
    }

    /// <summary>Reads what the victim sends until it closes the connection.</summary>
    private static async Task DrainAsync(Socket socket)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None) > 0)
            {
            }
        }
        catch (SocketException)
        {
        }
    }
}
