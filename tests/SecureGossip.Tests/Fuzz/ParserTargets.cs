using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using SecureGossip.Crypto;
using SecureGossip.Protocol;
using SecureGossip.Protocol.Core;

namespace SecureGossip.Tests.Fuzz;

/// <summary>
/// The parser-level targets, each one input at a time. Every target runs its parser on the input, lets no exception
/// through (the parsers return errors), and checks its oracle; a broken oracle throws <see cref="FuzzFailureException"/>.
/// </summary>
internal sealed class ParserTargets : IDisposable
{
    public const int MaxDepth = 64;

    private readonly FuzzCorpus _corpus;
    private readonly V2Authors _authors = new();
    private readonly ByteBuffer _signed = new(4096);
    private readonly ByteBuffer _compact = new(4096);
    private readonly Dictionary<(string Key, string Signature), List<GenuineMessage>> _bySignature = [];

    public ParserTargets(FuzzCorpus corpus)
    {
        _corpus = corpus;
        foreach (GenuineMessage message in corpus.Messages)
        {
            var key = (Convert.ToBase64String(message.Key), Convert.ToBase64String(message.Signature));
            if (!_bySignature.TryGetValue(key, out List<GenuineMessage>? list))
            {
                _bySignature[key] = list = [];
            }

            list.Add(message);
        }

        foreach (GossipKeys keys in corpus.Keys)
        {
            _authors.Intern(keys.Public);
        }
    }

    /// <summary>Signatures checked by the forgery oracle (each an ed25519 verify).</summary>
    public long Verifications { get; private set; }

    /// <summary>Inputs the canonical-form model predicted and the parser matched byte for byte.</summary>
    public long ModelChecks { get; private set; }

    /// <summary>Frames decoded, re-encoded and decoded again.</summary>
    public long RoundTrips { get; private set; }

    public static IReadOnlyList<string> Names { get; } = ["envelope", "canonical", "frames", "base64", "number", "noise"];

    /// <summary>Generates input <paramref name="random"/> names for <paramref name="target"/> and checks it; returns the input.</summary>
    public byte[] Run(string target, Random random, Action<byte[], string> announce)
    {
        switch (target)
        {
            case "envelope":
            {
                FuzzInput input = FuzzMutator.Mutate(_corpus, random, MaxDepth);
                announce(input.Bytes, input.Description);
                CheckEnvelope(input);
                CheckFrame(input.Bytes, null);
                return input.Bytes;
            }

            case "canonical":
                return CheckCanonical(random, announce);
            case "frames":
            {
                (byte[] bytes, string description, byte[]? embedded) = FrameInput(random);
                announce(bytes, description);
                CheckFrame(bytes, embedded);
                return bytes;
            }

            case "base64":
                return CheckBase64(random, announce);
            case "number":
                return CheckNumber(random, announce);
            case "noise":
            {
                FuzzInput input = FuzzMutator.Noise(random);
                announce(input.Bytes, input.Description);
                CheckEnvelope(input);
                CheckFrame(input.Bytes, null);
                return input.Bytes;
            }

            default:
                throw new ArgumentException($"Unknown target \"{target}\"; targets: {string.Join(", ", Names)}, node-v1, node-v2.", nameof(target));
        }
    }

    /// <summary>The line as the node's receive path hands it to the parser: trailing CR dropped, invalid UTF-8 replaced.</summary>
    public static byte[] AsReceived(byte[] line)
    {
        int length = line.Length > 0 && line[^1] == (byte)'\r' ? line.Length - 1 : line.Length;
        ReadOnlySpan<byte> span = line.AsSpan(0, length);
        return Utf8.IsValid(span) ? span.ToArray() : Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(span));
    }

    // ---- v1 envelope, canonical form and the forgery oracle ----

    private void CheckEnvelope(FuzzInput input)
    {
        byte[] line = AsReceived(input.Bytes);
        DropReason reason = V1Envelope.TryParse(line, MaxDepth, out V1Envelope envelope);
        if (input.Tree is { } tree && input.EnvelopeIntact && tree.Depth() <= MaxDepth && reason != DropReason.None)
        {
            throw new FuzzFailureException($"an intact envelope was rejected: {reason}");
        }

        if (input.Tree is { } deep && deep.Depth() > MaxDepth && reason != DropReason.TooDeep)
        {
            throw new FuzzFailureException($"a line {deep.Depth()} deep was not rejected as too deep: {reason}");
        }

        if (reason != DropReason.None)
        {
            return;
        }

        _signed.Clear();
        _compact.Clear();
        V8Json.Shared.Write(line, envelope.DataStart, _signed, indented: true, asSignedPayload: true);
        bool signedSeq = V1Envelope.TryReadSignedSeq(line, envelope.DataStart, out long seq);
        V8Json.Shared.Write(line, envelope.DataStart, _compact, indented: false, asSignedPayload: true, withoutSignedSeq: signedSeq);

        FuzzJson? data = input.Tree?.Get("data");
        if (data is { Kind: FuzzJsonKind.Object } && data.IsModelled() && input.EnvelopeIntact)
        {
            bool modelSignedSeq = ModelSignedSeq(data, out long modelSeq);
            if (modelSignedSeq != signedSeq || (signedSeq && seq != modelSeq))
            {
                throw new FuzzFailureException($"signed seq: parser ({signedSeq}, {seq}), model ({modelSignedSeq}, {modelSeq})");
            }

            ExpectEqual("signed form", data.Stringify(indented: true, "signature", "__proto__"), _signed.WrittenSpan);
            ExpectEqual("payload", modelSignedSeq ? data.Stringify(false, "signature", "__proto__", "$sg") : data.Stringify(false, "signature", "__proto__"), _compact.WrittenSpan);
            ModelChecks++;
        }

        // The key and signature as the receive path decodes them.
        string author = V1Envelope.DecodeString(line.AsSpan()[envelope.Public], envelope.PublicEscaped);
        Span<byte> key = stackalloc byte[33];
        Span<byte> signature = stackalloc byte[65];
        int keyLength = SsbBase64.Decode(author, key);
        int signatureLength = envelope.SignatureEscaped
            ? SsbBase64.Decode(V1Envelope.DecodeString(line.AsSpan()[envelope.Signature], escaped: true), signature)
            : SsbBase64.Decode(line.AsSpan()[envelope.Signature], signature);
        byte[]? modelKey = FuzzCorpus.DecodeKey(author);
        if ((keyLength == 32) != (modelKey is not null) || (modelKey is not null && !key[..32].SequenceEqual(modelKey)))
        {
            throw new FuzzFailureException($"key \"{author}\" decodes to {keyLength} bytes; the model says {modelKey?.Length ?? -1}");
        }

        if (keyLength != 32 || signatureLength != 64)
        {
            return;
        }

        // NO FORGERY: the signature verifies only over exactly the bytes its author signed.
        bool genuine = _bySignature.TryGetValue((Convert.ToBase64String(key[..32]), Convert.ToBase64String(signature[..64])), out List<GenuineMessage>? candidates)
            && candidates.Exists(m => _signed.WrittenSpan.SequenceEqual(m.Signed));
        Verifications++;
        bool verified = GossipKeys.Verify(key[..32], _signed.WrittenSpan, signature[..64]);
        if (verified && !genuine)
        {
            throw new FuzzFailureException("FORGERY: a signature verified over bytes no test key signed");
        }

        if (genuine && !verified)
        {
            throw new FuzzFailureException("a genuine signature over the genuine bytes did not verify");
        }

        if (genuine && candidates!.Find(m => _signed.WrittenSpan.SequenceEqual(m.Signed)) is { } match && !_compact.WrittenSpan.SequenceEqual(match.Delivered))
        {
            throw new FuzzFailureException($"a verified line would deliver \"{Encoding.UTF8.GetString(_compact.WrittenSpan)}\", not the signed payload \"{Encoding.UTF8.GetString(match.Delivered)}\"");
        }
    }

    private static bool ModelSignedSeq(FuzzJson data, out long seq)
    {
        seq = 0;
        if (data.Get("$sg") is not { Kind: FuzzJsonKind.Object } sg || sg.Get("seq") is not { Kind: FuzzJsonKind.Number, Canonical: { } canonical })
        {
            return false;
        }

        return long.TryParse(canonical, NumberStyles.None, CultureInfo.InvariantCulture, out seq) && seq <= (1L << 53) - 1;
    }

    private static void ExpectEqual(string what, byte[] expected, ReadOnlySpan<byte> actual)
    {
        if (!actual.SequenceEqual(expected))
        {
            throw new FuzzFailureException($"{what} differs from JSON.stringify's:\n  model:  {Encoding.UTF8.GetString(expected)}\n  parser: {Encoding.UTF8.GetString(actual)}");
        }
    }

    /// <summary>A random payload on its own: the canonical forms (indented and compact) must match the model's.</summary>
    private byte[] CheckCanonical(Random random, Action<byte[], string> announce)
    {
        FuzzJson tree = random.Next(4) == 0 ? FuzzJson.Array(FuzzValues.Value(random, 4)) : FuzzValues.Object(random, 4, random.Next(8));
        byte[] wire = tree.ToWire(random);
        announce(wire, "canonical");
        DropReason reason = V1Envelope.Validate(wire, MaxDepth);
        if (reason != DropReason.None)
        {
            throw new FuzzFailureException($"valid JSON rejected: {reason}");
        }

        foreach (bool indented in (ReadOnlySpan<bool>)[true, false])
        {
            _signed.Clear();
            int end = V8Json.Shared.Write(wire, 0, _signed, indented, asSignedPayload: false);
            if (JsonText.SkipWhitespace(wire, end) != wire.Length)
            {
                throw new FuzzFailureException($"the writer stopped at byte {end} of {wire.Length}");
            }

            ExpectEqual(indented ? "indented form" : "compact form", tree.Stringify(indented), _signed.WrittenSpan);
        }

        ModelChecks++;
        return wire;
    }

    // ---- v2 frames ----

    internal (byte[] Bytes, string Description, byte[]? Embedded) FrameInput(Random random)
    {
        IGossipFrame frame = RandomFrame(random);
        byte[] encoded = V2Frames.Encode(frame, _authors);
        byte[]? embedded = (frame as PlumtreeMessage)?.Line;
        var description = new StringBuilder(frame.GetType().Name);
        switch (random.Next(4))
        {
            case 0:
                return (encoded, description.ToString(), embedded);
            case 1:
            {
                // Tree edits on the frame: respelled, members repeated, reordered, retyped, envelope members added.
                FuzzJson tree = FuzzJson.Parse(encoded);
                int edits = 1 + random.Next(3);
                for (int e = 0; e < edits; e++)
                {
                    description.Append(" f");
                    MutateFrameTree(tree, random, description);
                }

                return (tree.ToWire(random), description.ToString(), null);
            }

            default:
                description.Append(" bytes:");
                return (FuzzMutator.MutateBytes(_corpus, encoded, random, description), description.ToString(), null);
        }
    }

    private IGossipFrame RandomFrame(Random random)
    {
        int author = random.Next(_corpus.Keys.Count);
        MessageId RandomId() => MessageId.FromDigest(author, random.Next(3) == 0
            ? _corpus.Messages[random.Next(_corpus.Messages.Count)].Id
            : new UInt128((ulong)random.NextInt64(), (ulong)random.NextInt64() | 1));
        int count = random.Next(random.Next(10) == 0 ? 600 : 6);
        switch (random.Next(6))
        {
            case 0:
                GenuineMessage message = _corpus.Messages[random.Next(_corpus.Messages.Count)];
                return new PlumtreeMessage(default, 0, (PlumtreeSendKind)random.Next(3), random.Next(5) == 0 ? random.Next(int.MaxValue) : random.Next(10), random.Next(2) == 0)
                {
                    Line = message.Envelope().ToWire(null),
                    AgeMs = random.Next(3) == 0 ? random.NextInt64(-5, long.MaxValue) : random.Next(1000),
                };
            case 1:
                return new PlumtreeIHave([.. Enumerable.Range(0, count).Select(_ => RandomId())], [.. Enumerable.Range(0, count).Select(_ => random.Next(-3, 70_000))]);
            case 2:
                return new PlumtreeGraft(random.Next(2) == 0 ? RandomId() : null, author);
            case 3:
                return new PlumtreePrune(author, random.Next(2) == 0);
            case 4:
                return new PlumtreeSync(random.Next(2) == 0, [.. Enumerable.Range(0, Math.Min(count, 8)).Select(_ => random.Next(2) == 0
                    ? new PlumtreeFrontierEntry(random.Next(_corpus.Keys.Count), random.NextInt64(0, long.MaxValue), [.. Enumerable.Range(0, random.Next(5)).Select(_ => random.NextInt64(0, 1000))])
                    : PlumtreeFrontierEntry.ForDigests(random.Next(_corpus.Keys.Count), [.. Enumerable.Range(0, random.Next(5)).Select(_ => RandomId().Digest)]))])
                { End = random.Next(2) == 0 };
            default:
                return new PlumtreeWant([.. Enumerable.Range(0, count).Select(_ => random.Next(2) == 0 ? RandomId() : new MessageId(random.Next(_corpus.Keys.Count), random.NextInt64(0, 1L << 53)))]);
        }
    }

    private void MutateFrameTree(FuzzJson tree, Random random, StringBuilder description)
    {
        string[] names = ["sg2", "k", "h", "age", "t", "m", "i", "a", "o", "full", "end", "s", "l", "data", "public", "seq", "x"];
        FuzzJson[] odd =
        [
            FuzzJson.Integer(-1), FuzzJson.Integer(2), FuzzJson.Integer(65_536), FuzzJson.Number("1.0", "1"), FuzzJson.Number("1e3", "1000"),
            FuzzJson.Integer(long.MaxValue), FuzzJson.Number("9223372036854775808", null), FuzzJson.String("e"), FuzzJson.String("hello"),
            FuzzJson.String(_corpus.Keys[random.Next(_corpus.Keys.Count)].Public), FuzzJson.String("AAAAAAAAAAAAAAAAAAAAAA=="),
            FuzzJson.String("AAAAAAAAAAAAAAAAAAAAAB=="), FuzzJson.String("AAAAAAAAAAAAAAAAAAAAAQ=="), FuzzJson.String("AAAAAAAAAAAAAAAAAAAAAQ"),
            FuzzJson.Array(), FuzzJson.Object(), FuzzJson.Literal(FuzzJsonKind.Null), FuzzJson.Array(FuzzJson.Array(FuzzJson.String("AAAAAAAAAAAAAAAAAAAAAQ=="), FuzzJson.Integer(1))),
        ];
        int choice = random.Next(6);
        description.Append(choice);
        switch (choice)
        {
            case 0:
                tree.Members.Insert(random.Next(tree.Members.Count + 1), FuzzJson.Member(names[random.Next(names.Length)], odd[random.Next(odd.Length)].Clone()));
                break;
            case 1 when tree.Members.Count > 1:
                int a = random.Next(tree.Members.Count), b = random.Next(tree.Members.Count);
                (tree.Members[a], tree.Members[b]) = (tree.Members[b], tree.Members[a]);
                break;
            case 2 when tree.Members.Count > 0:
                tree.Members.RemoveAt(random.Next(tree.Members.Count));
                break;
            case 3 when tree.Members.Count > 0:
                int at = random.Next(tree.Members.Count);
                tree.Members[at] = FuzzJson.Member(tree.Members[at].Key, odd[random.Next(odd.Length)].Clone());
                break;
            case 4:
            {
                // Somewhere inside an array: an element replaced or added.
                List<FuzzJson> arrays = [.. Arrays(tree)];
                if (arrays.Count > 0)
                {
                    FuzzJson array = arrays[random.Next(arrays.Count)];
                    FuzzJson value = random.Next(2) == 0 ? odd[random.Next(odd.Length)].Clone() : FuzzValues.Value(random, 2);
                    if (array.Items.Count > 0 && random.Next(2) == 0)
                    {
                        array.Items[random.Next(array.Items.Count)] = value;
                    }
                    else
                    {
                        array.Items.Insert(random.Next(array.Items.Count + 1), value);
                    }
                }

                break;
            }

            default:
                // Spell a member name with escapes (same name to the reader) or a near miss.
                if (tree.Members.Count > 0)
                {
                    int m = random.Next(tree.Members.Count);
                    string key = tree.Members[m].Key;
                    tree.Members[m] = FuzzJson.Member(random.Next(2) == 0 ? key.ToUpperInvariant() : key + "\0", tree.Members[m].Value);
                }

                break;
        }
    }

    private static IEnumerable<FuzzJson> Arrays(FuzzJson value) => value.Kind switch
    {
        FuzzJsonKind.Array => [value, .. value.Items.SelectMany(Arrays)],
        FuzzJsonKind.Object => value.Members.SelectMany(m => Arrays(m.Value)),
        _ => [],
    };

    /// <summary>Decode never throws; a frame it accepts encodes, and that encoding decodes and encodes to itself.</summary>
    private void CheckFrame(byte[] bytes, byte[]? embedded)
    {
        _ = V2Hello.IsFrame(bytes);
        if (!KnownFindings.HelloThrows(bytes, asTheNodeSeesIt: false))
        {
            _ = V2Hello.TryReadHello(bytes, out _);
        }

        if (KnownFindings.FrameDecodeThrows(bytes))
        {
            return;
        }

        bool ok = V2Frames.TryDecode(bytes, _authors, MaxDepth, out IGossipFrame? frame, out string? error);
        if (ok != (error is null) || (!ok && (frame is not null || error!.Length == 0)))
        {
            throw new FuzzFailureException($"TryDecode returned {ok} with frame {frame?.GetType().Name ?? "null"} and error \"{error}\"");
        }

        if (!ok || frame is null)
        {
            return;
        }

        if (frame is PlumtreeMessage { Line: { } line })
        {
            if (embedded is not null && !line.AsSpan().SequenceEqual(embedded))
            {
                throw new FuzzFailureException("msg.m is not the embedded line byte for byte");
            }

            if (line.AsSpan().Contains((byte)'\n') || line.AsSpan().Contains((byte)'\r'))
            {
                return; // a line with raw line breaks inside cannot be one frame again (Encode refuses it)
            }
        }

        byte[] once = V2Frames.Encode(frame, _authors);
        if (!V2Frames.TryDecode(once, _authors, MaxDepth, out IGossipFrame? again, out string? againError) || again is null)
        {
            throw new FuzzFailureException($"a decoded frame, encoded, does not decode: {againError}\n  encoded: {Encoding.UTF8.GetString(once)}");
        }

        byte[] twice = V2Frames.Encode(again, _authors);
        if (!once.AsSpan().SequenceEqual(twice))
        {
            throw new FuzzFailureException($"encode(decode(x)) is not stable:\n  once:  {Encoding.UTF8.GetString(once)}\n  twice: {Encoding.UTF8.GetString(twice)}");
        }

        RoundTrips++;
    }

    // ---- ssb base64 and numbers ----

    private static byte[] CheckBase64(Random random, Action<byte[], string> announce)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_";
        var text = new StringBuilder();
        if (random.Next(3) == 0)
        {
            text.Append("@%&x"[random.Next(4)]);
        }

        int length = random.Next(random.Next(8) == 0 ? 300 : 100);
        for (int i = 0; i < length; i++)
        {
            text.Append(random.Next(10) switch
            {
                0 => "=.!* \n\té😀\uD800\u0000"[random.Next(12)],
                _ => Alphabet[random.Next(Alphabet.Length)],
            });
        }

        string value = text.ToString();
        byte[] utf8 = Encoding.UTF8.GetBytes(value);
        announce(utf8, "base64");
        Span<byte> fromChars = stackalloc byte[96];
        Span<byte> fromBytes = stackalloc byte[96];
        int charsLength = SsbBase64.Decode(value, fromChars);
        int bytesLength = SsbBase64.Decode(utf8, fromBytes);
        byte[] expected = ReferenceBase64(value);
        int expectedLength = expected.Length > 96 ? -1 : expected.Length;
        if (charsLength != expectedLength || (expectedLength > 0 && !fromChars[..expectedLength].SequenceEqual(expected)))
        {
            throw new FuzzFailureException($"Decode(chars) gave {charsLength} bytes, the reference {expectedLength}");
        }

        if (!value.Contains('\uD800', StringComparison.Ordinal) && (bytesLength != charsLength || (bytesLength > 0 && !fromBytes[..bytesLength].SequenceEqual(fromChars[..charsLength]))))
        {
            throw new FuzzFailureException($"Decode(UTF-8) gave {bytesLength} bytes, Decode(chars) {charsLength}");
        }

        return utf8;
    }

    /// <summary>Node's Buffer.from(s, 'base64') on ssb-keys' cut of the string: sigil dropped, cut at '.', junk skipped, '=' ends.</summary>
    private static byte[] ReferenceBase64(string text)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        string body = text.Length > 0 && text[0] is '@' or '%' or '&' ? text[1..] : text;
        int dot = body.IndexOf('.', StringComparison.Ordinal);
        body = dot >= 0 ? body[..dot] : body;
        var values = new List<int>();
        foreach (char c in body)
        {
            if (c == '=')
            {
                break;
            }

            int v = c switch { '-' => 62, '_' => 63, _ => c < 128 ? Alphabet.IndexOf(c, StringComparison.Ordinal) : -1 };
            if (v >= 0)
            {
                values.Add(v);
            }
        }

        var bytes = new List<byte>();
        for (int i = 0; i + 1 < values.Count; i += 4)
        {
            int group = 0;
            int n = Math.Min(4, values.Count - i);
            for (int j = 0; j < 4; j++)
            {
                group = (group << 6) | (j < n ? values[i + j] : 0);
            }

            byte[] three = [(byte)(group >> 16), (byte)(group >> 8), (byte)group];
            bytes.AddRange(three.AsSpan(0, n - 1).ToArray());
        }

        return [.. bytes];
    }

    private static byte[] CheckNumber(Random random, Action<byte[], string> announce)
    {
        double value = random.Next(5) switch
        {
            0 => BitConverter.Int64BitsToDouble(random.NextInt64(long.MinValue, long.MaxValue)),
            1 => (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-30, 30)),
            2 => random.NextInt64(-(1L << 54), 1L << 54) + (random.Next(2) == 0 ? 0.5 : 0),
            3 => BitConverter.Int64BitsToDouble(random.NextInt64(0, 1L << 52)) * (random.Next(2) == 0 ? 1 : -1), // subnormal
            _ => double.Parse(FuzzValues.Number(random).Text, CultureInfo.InvariantCulture),
        };
        byte[] bits = new byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(bits, value);
        announce(bits, "number (IEEE bits, little-endian)");
        Span<byte> output = stackalloc byte[EcmaNumber.MaxLength];
        string actual = Encoding.ASCII.GetString(output[..EcmaNumber.Format(value, output)]);
        string expected;
        if (!double.IsFinite(value))
        {
            expected = "null";
        }
        else if (value == 0)
        {
            expected = "0";
        }
        else
        {
            // Shortest round-trip digits ("R" since .NET Core 3.0) laid out by the spec's rule.
            string shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
            int e = shortest.IndexOfAny(['E', 'e']);
            string mantissa = e >= 0 ? shortest[..e] : shortest;
            int exponent = e >= 0 ? int.Parse(shortest[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : 0;
            int point = mantissa.IndexOf('.', StringComparison.Ordinal);
            string digits = mantissa.Replace(".", string.Empty, StringComparison.Ordinal);
            int integerDigits = point < 0 ? mantissa.Length : point;
            int leading = digits.Length - digits.TrimStart('0').Length;
            digits = digits.TrimStart('0').TrimEnd('0');
            expected = (value < 0 ? "-" : string.Empty) + FuzzValues.Layout(digits, integerDigits - leading + exponent);
        }

        if (actual != expected)
        {
            throw new FuzzFailureException($"Number::toString({value:R}) printed {actual}, expected {expected}");
        }

        if (double.IsFinite(value) && double.Parse(actual, CultureInfo.InvariantCulture) != value)
        {
            throw new FuzzFailureException($"{actual} does not read back as {value:R}");
        }

        return bits;
    }

    public void Dispose()
    {
        _signed.Dispose();
        _compact.Dispose();
    }
}
