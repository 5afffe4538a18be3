namespace SecureGossip.Protocol;

/// <summary>
/// Re-serializes parsed JSON exactly as V8's <c>JSON.stringify(JSON.parse(text), null, 2)</c> (or without the
/// indent) prints it, straight from the wire text: this is the byte string ssb-keys signs, so every detail of
/// V8 matters. Object keys that are array indices ("0" to "4294967294") come first in ascending numeric order,
/// then the other keys in first-insertion order; a repeated key keeps its first position and its last value;
/// numbers print as ECMAScript Number::toString; strings use V8's escaping. Objects are written in wire order
/// optimistically and rewritten only when an index key or a duplicate calls for it.
/// </summary>
/// <remarks>Not thread-safe: one instance per thread (see <see cref="Shared"/>). The input must be valid JSON.</remarks>
internal sealed class V8Json
{
    [ThreadStatic]
    private static V8Json? s_shared;

    private readonly ByteBuffer _decodedKeys = new(256);
    private Member[] _members = new Member[32];
    private int _memberCount;
    private bool _withoutSignedSeq;

    public static V8Json Shared => s_shared ??= new V8Json();

    /// <summary>
    /// Writes the value starting at <paramref name="start"/> and returns the index just after it. With
    /// <paramref name="asSignedPayload"/>, the top-level object is written as ssb-keys' <c>verifyObj</c> sees it
    /// after its shallow clone: without <c>signature</c> (deleted) and without <c>__proto__</c> (the clone's
    /// assignment sets the prototype instead of creating a property).
    /// </summary>
    /// <param name="json">Valid JSON text.</param>
    /// <param name="start">Where the value starts.</param>
    /// <param name="output">Where the serialization goes.</param>
    /// <param name="indented">Two-space indentation (the signed form) or none (the delivered payload).</param>
    /// <param name="asSignedPayload">Write the top-level object as verifyObj sees it.</param>
    /// <param name="withoutSignedSeq">Also leave out the top-level <c>$sg</c> member (a v2 author's signed seq,
    /// docs/PROTOCOL.md §3.2), for the payload handed to the application.</param>
    public int Write(ReadOnlySpan<byte> json, int start, ByteBuffer output, bool indented, bool asSignedPayload, bool withoutSignedSeq = false)
    {
        _withoutSignedSeq = withoutSignedSeq;
        _memberCount = 0;
        _decodedKeys.Clear();
        return WriteValue(json, start, output, indented, 0, asSignedPayload);
    }

    private int WriteValue(ReadOnlySpan<byte> json, int pos, ByteBuffer output, bool indented, int level, bool asSignedPayload)
    {
        switch (json[pos])
        {
            case (byte)'{':
                return WriteObject(json, pos, output, indented, level, asSignedPayload);
            case (byte)'[':
                return WriteArray(json, pos, output, indented, level);
            case (byte)'"':
                int end = JsonText.ScanString(json, pos, out bool escaped);
                JsonText.WriteV8String(json[(pos + 1)..(end - 1)], escaped, output);
                return end;
            case (byte)'t':
                output.Write("true"u8);
                return pos + 4;
            case (byte)'f':
                output.Write("false"u8);
                return pos + 5;
            case (byte)'n':
                output.Write("null"u8);
                return pos + 4;
            default:
                return WriteNumber(json, pos, output);
        }
    }

    private static int WriteNumber(ReadOnlySpan<byte> json, int pos, ByteBuffer output)
    {
        int end = JsonText.SkipValue(json, pos);
        ReadOnlySpan<byte> token = json[pos..end];

        // Plain integers of up to 15 digits are already in Number::toString form; "-0" is not.
        ReadOnlySpan<byte> digits = token[0] == (byte)'-' ? token[1..] : token;
        if (digits.Length <= 15 && !digits.ContainsAnyExceptInRange((byte)'0', (byte)'9') && !(token[0] == (byte)'-' && digits is [(byte)'0']))
        {
            output.Write(token);
            return end;
        }

        double value = double.Parse(token, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);
        int written = EcmaNumber.Format(value, output.GetSpan(EcmaNumber.MaxLength));
        output.Advance(written);
        return end;
    }

    private int WriteArray(ReadOnlySpan<byte> json, int pos, ByteBuffer output, bool indented, int level)
    {
        pos = JsonText.SkipWhitespace(json, pos + 1);
        if (json[pos] == (byte)']')
        {
            output.Write("[]"u8);
            return pos + 1;
        }

        output.Write((byte)'[');
        bool first = true;
        while (true)
        {
            if (!first)
            {
                output.Write((byte)',');
            }

            first = false;
            NewLine(output, indented, level + 1);
            pos = WriteValue(json, pos, output, indented, level + 1, asSignedPayload: false);
            pos = JsonText.SkipWhitespace(json, pos);
            if (json[pos] == (byte)']')
            {
                NewLine(output, indented, level);
                output.Write((byte)']');
                return pos + 1;
            }

            pos = JsonText.SkipWhitespace(json, pos + 1);
        }
    }

    private int WriteObject(ReadOnlySpan<byte> json, int pos, ByteBuffer output, bool indented, int level, bool asSignedPayload)
    {
        int outputStart = output.Length;
        int firstMember = _memberCount;
        int keysStart = _decodedKeys.Length;

        pos = JsonText.SkipWhitespace(json, pos + 1);
        if (json[pos] == (byte)'}')
        {
            output.Write("{}"u8);
            return pos + 1;
        }

        output.Write((byte)'{');
        bool reorder = false;
        while (true)
        {
            int keyEnd = JsonText.ScanString(json, pos, out bool keyEscaped);
            var member = new Member
            {
                KeyStart = pos + 1,
                KeyEnd = keyEnd - 1,
                KeyEscaped = keyEscaped,
            };
            if (keyEscaped)
            {
                member.DecodedStart = _decodedKeys.Length;
                JsonText.Unescape(json[member.KeyStart..member.KeyEnd], _decodedKeys);
                member.DecodedLength = _decodedKeys.Length - member.DecodedStart;
            }

            ReadOnlySpan<byte> key = KeyOf(json, member);
            member.Index = ArrayIndex(key);
            bool skip = asSignedPayload && (key.SequenceEqual("signature"u8) || key.SequenceEqual("__proto__"u8) || (_withoutSignedSeq && key.SequenceEqual("$sg"u8)));
            if (!skip)
            {
                var hash = default(HashCode);
                hash.AddBytes(key);
                member.Hash = hash.ToHashCode();
            }

            pos = JsonText.SkipWhitespace(json, keyEnd) + 1; // the colon
            pos = JsonText.SkipWhitespace(json, pos);
            member.ValueStart = pos;
            if (skip)
            {
                pos = JsonText.SkipValue(json, pos);
            }
            else
            {
                reorder |= member.Index >= 0;
                if (_memberCount > firstMember)
                {
                    output.Write((byte)',');
                }

                NewLine(output, indented, level + 1);
                JsonText.WriteV8String(json[member.KeyStart..member.KeyEnd], keyEscaped, output);
                output.Write(indented ? ": "u8 : ":"u8);
                pos = WriteValue(json, pos, output, indented, level + 1, asSignedPayload: false);
                Push(member);
            }

            pos = JsonText.SkipWhitespace(json, pos);
            if (json[pos] == (byte)'}')
            {
                pos++;
                break;
            }

            pos = JsonText.SkipWhitespace(json, pos + 1);
        }

        int count = _memberCount - firstMember;
        bool duplicates = count > 1 && AssignGroups(json, firstMember, count);
        if (reorder || duplicates)
        {
            output.Truncate(outputStart);
            WriteOrdered(json, firstMember, count, output, indented, level, duplicates);
        }
        else if (count == 0)
        {
            output.Truncate(outputStart);
            output.Write("{}"u8);
        }
        else
        {
            NewLine(output, indented, level);
            output.Write((byte)'}');
        }

        _memberCount = firstMember;
        _decodedKeys.Truncate(keysStart);
        return pos;
    }

    private void WriteOrdered(ReadOnlySpan<byte> json, int firstMember, int count, ByteBuffer output, bool indented, int level, bool grouped)
    {
        // The last occurrence of each key supplies the value; its first occurrence the position.
        for (int i = 0; i < count; i++)
        {
            ref Member m = ref _members[firstMember + i];
            if (!grouped)
            {
                m.Group = i;
            }

            _members[firstMember + m.Group].LastValue = i;
        }

        int leaders = 0;
        Span<int> order = count <= 128 ? stackalloc int[count] : new int[count];
        for (int i = 0; i < count; i++)
        {
            if (_members[firstMember + i].Group == i)
            {
                order[leaders++] = i;
            }
        }

        order = order[..leaders];
        Member[] members = _members;
        int baseIndex = firstMember;
        // Stable: index keys ascending, then the others in insertion order (ECMA-262 OrdinaryOwnPropertyKeys).
        order.Sort((a, b) =>
        {
            long ia = members[baseIndex + a].Index;
            long ib = members[baseIndex + b].Index;
            if (ia >= 0 && ib >= 0)
            {
                return ia.CompareTo(ib);
            }

            if (ia >= 0 || ib >= 0)
            {
                return ia >= 0 ? -1 : 1;
            }

            return a.CompareTo(b);
        });

        output.Write((byte)'{');
        for (int i = 0; i < order.Length; i++)
        {
            if (i > 0)
            {
                output.Write((byte)',');
            }

            Member leader = _members[firstMember + order[i]];
            Member last = _members[firstMember + leader.LastValue];
            NewLine(output, indented, level + 1);
            JsonText.WriteV8String(json[leader.KeyStart..leader.KeyEnd], leader.KeyEscaped, output);
            output.Write(indented ? ": "u8 : ":"u8);
            WriteValue(json, last.ValueStart, output, indented, level + 1, asSignedPayload: false);
        }

        NewLine(output, indented, level);
        output.Write((byte)'}');
    }

    /// <summary>Sets each member's <see cref="Member.Group"/> to the position of the first member with the same key.</summary>
    private bool AssignGroups(ReadOnlySpan<byte> json, int firstMember, int count)
    {
        for (int i = 0; i < count; i++)
        {
            _members[firstMember + i].Group = i;
        }

        bool any = false;
        if (count <= 16)
        {
            for (int i = 1; i < count; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    if (SameKey(json, firstMember + i, firstMember + j))
                    {
                        _members[firstMember + i].Group = _members[firstMember + j].Group;
                        any = true;
                        break;
                    }
                }
            }

            return any;
        }

        // Sort positions by (hash, position); equal keys then sit together, first occurrence leading.
        int[] byHash = new int[count];
        for (int i = 0; i < count; i++)
        {
            byHash[i] = i;
        }

        Member[] members = _members;
        Array.Sort(byHash, (a, b) =>
        {
            int c = members[firstMember + a].Hash.CompareTo(members[firstMember + b].Hash);
            return c != 0 ? c : a.CompareTo(b);
        });

        int run = 0;
        while (run < count)
        {
            int runEnd = run + 1;
            while (runEnd < count && _members[firstMember + byHash[runEnd]].Hash == _members[firstMember + byHash[run]].Hash)
            {
                runEnd++;
            }

            for (int i = run + 1; i < runEnd; i++)
            {
                for (int j = run; j < i; j++)
                {
                    if (_members[firstMember + byHash[j]].Group == byHash[j] && SameKey(json, firstMember + byHash[i], firstMember + byHash[j]))
                    {
                        _members[firstMember + byHash[i]].Group = byHash[j];
                        any = true;
                        break;
                    }
                }
            }

            run = runEnd;
        }

        return any;
    }

    private bool SameKey(ReadOnlySpan<byte> json, int a, int b) =>
        _members[a].Hash == _members[b].Hash && KeyOf(json, _members[a]).SequenceEqual(KeyOf(json, _members[b]));

    private ReadOnlySpan<byte> KeyOf(ReadOnlySpan<byte> json, in Member member) => member.KeyEscaped
        ? _decodedKeys.WrittenSpan.Slice(member.DecodedStart, member.DecodedLength)
        : json[member.KeyStart..member.KeyEnd];

    /// <summary>The numeric value of an array-index key ("0" to "4294967294", no leading zeros), else -1.</summary>
    internal static long ArrayIndex(ReadOnlySpan<byte> key)
    {
        if (key.Length is 0 or > 10 || (key.Length > 1 && key[0] == (byte)'0') || key.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
        {
            return -1;
        }

        long value = 0;
        foreach (byte b in key)
        {
            value = (value * 10) + (b - '0');
        }

        return value <= 4294967294L ? value : -1;
    }

    private static void NewLine(ByteBuffer output, bool indented, int level)
    {
        if (indented)
        {
            output.Write((byte)'\n');
            output.WriteRepeated((byte)' ', level * 2);
        }
    }

    private void Push(in Member member)
    {
        if (_memberCount == _members.Length)
        {
            Array.Resize(ref _members, _members.Length * 2);
        }

        _members[_memberCount++] = member;
    }

    private struct Member
    {
        public int KeyStart;
        public int KeyEnd;
        public bool KeyEscaped;
        public int DecodedStart;
        public int DecodedLength;
        public int ValueStart;
        public long Index;
        public int Hash;
        public int Group;
        public int LastValue;
    }
}
