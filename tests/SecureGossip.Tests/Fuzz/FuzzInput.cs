namespace SecureGossip.Tests.Fuzz;

/// <summary>One generated input and what the model knows about it.</summary>
internal sealed class FuzzInput
{
    public required byte[] Bytes { get; init; }

    /// <summary>The mutations applied, for the failure report.</summary>
    public required string Description { get; init; }

    /// <summary>The tree the bytes spell, when only tree mutations were applied (the model can predict the outcome).</summary>
    public FuzzJson? Tree { get; init; }

    /// <summary>The message the input was made from, if any.</summary>
    public GenuineMessage? Source { get; init; }

    /// <summary>Only the payload changed: the line is still an envelope the parser must locate.</summary>
    public bool EnvelopeIntact { get; init; }
}
