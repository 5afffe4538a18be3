namespace SecureGossip.Tests.Fuzz;

/// <summary>The kinds of <see cref="FuzzJson"/> value.</summary>
internal enum FuzzJsonKind
{
    Object,
    Array,
    String,
    Number,
    True,
    False,
    Null,
}
