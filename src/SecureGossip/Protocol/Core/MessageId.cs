namespace SecureGossip.Protocol.Core;

/// <summary>
/// Identifies one published message: its author and the author's own sequence number, as the v1 envelope's
/// <c>public</c> and <c>seq</c> do.
/// </summary>
/// <param name="Author">The publishing node. In the simulator, a node index; a real transport interns each author key to a number.</param>
/// <param name="Sequence">The author's sequence number, counting from 0 per author.</param>
public readonly record struct MessageId(int Author, long Sequence);
