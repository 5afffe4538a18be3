namespace SecureGossip.Protocol;

/// <summary>The top-level members any v2 frame type reads (docs/PROTOCOL.md §4.2); the index into <see cref="V2FrameMembers"/>.</summary>
internal enum V2Member
{
    /// <summary><c>sg2</c>: the frame type.</summary>
    Sg2,

    /// <summary><c>k</c>: why a <c>msg</c> was sent.</summary>
    K,

    /// <summary><c>h</c>: a <c>msg</c>'s hop count.</summary>
    H,

    /// <summary><c>age</c>: a <c>msg</c>'s age in ms.</summary>
    Age,

    /// <summary><c>t</c>: a <c>msg</c> pushed along a per-author tree.</summary>
    T,

    /// <summary><c>m</c>: a <c>msg</c>'s v1 line.</summary>
    M,

    /// <summary><c>i</c>: ids (<c>ihave</c>, <c>graft</c>, <c>want</c>).</summary>
    I,

    /// <summary><c>a</c>: an author (<c>graft</c>, <c>prune</c>).</summary>
    A,

    /// <summary><c>o</c>: a <c>prune</c> for optimisation.</summary>
    O,

    /// <summary><c>full</c>: a full <c>sync</c>.</summary>
    Full,

    /// <summary><c>end</c>: the last frame of a full <c>sync</c>.</summary>
    End,

    /// <summary><c>s</c>: seq entries (<c>sync</c>, <c>want</c>).</summary>
    S,

    /// <summary><c>l</c>: digest entries (<c>sync</c>).</summary>
    L,

    /// <summary><c>r</c>: a rooted tree (<c>msg</c>: its root; <c>graft</c>, <c>prune</c>: the flag, §8.8).</summary>
    R,
}
