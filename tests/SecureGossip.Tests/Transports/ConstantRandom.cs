namespace SecureGossip.Tests.Transports;

/// <summary>A "random" source that always draws the same value, so jittered backoff delays are the same every run.</summary>
internal sealed class ConstantRandom(double value) : Random
{
    public override double NextDouble() => value;
}
