namespace SecureGossip.Tests.TestSupport;

/// <summary>Which way bytes cross a <see cref="FaultProxy"/>.</summary>
internal enum ProxyDirection
{
    /// <summary>From the client that connected to the proxy towards the upstream server.</summary>
    ToUpstream,

    /// <summary>From the upstream server back to the client.</summary>
    ToClient,
}
