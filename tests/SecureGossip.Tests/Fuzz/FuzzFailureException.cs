namespace SecureGossip.Tests.Fuzz;

/// <summary>A broken property: what, on which input.</summary>
internal sealed class FuzzFailureException(string message) : Exception(message);
