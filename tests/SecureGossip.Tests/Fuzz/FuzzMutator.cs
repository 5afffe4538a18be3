using System.Text;

namespace SecureGossip.Tests.Fuzz;

/// <summary>
/// Structure-aware mutations of signed lines: first on the tree (values, repeated keys, order, nesting, numbers,
/// strings, seq, key and signature spellings, the envelope's members), then, for about half the inputs, on the
/// bytes (flips, splices, truncation, invalid UTF-8, token soup). Deterministic for a given <see cref="Random"/>.
/// </summary>
internal static class FuzzMutator
{
    private static readonly byte[] s_tokens = "{}[]\",:\\0123456789-+.eEtrufalsn =/_u\u007f"u8.ToArray();

    private static readonly byte[][] s_badUtf8 =
    [
        [0x80], [0xC0, 0x80], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xF0, 0x9F, 0x98], [0xF5, 0x80, 0x80, 0x80],
        [0xF4, 0x90, 0x80, 0x80], [0xFF], [0xFE], [0xEF, 0xBB, 0xBF], [0xE0, 0x80, 0x80], [0xC1, 0xBF],
    ];

    private static readonly string[] s_seqs =
    [
        "-1", "0", "-0", "1.5", "9007199254740991", "9007199254740992", "9007199254740993", "1e308", "1e400", "-1e400",
        "4294967295", "999999999999", "1E2", "0.0", "123456789012345678901234567890", "\"1\"", "null", "true", "[1]", "{}",
    ];

    public static FuzzInput Mutate(FuzzCorpus corpus, Random random, int maxDepth)
    {
        GenuineMessage source = corpus.Messages[random.Next(corpus.Messages.Count)];
        FuzzJson tree = source.Envelope();
        var description = new StringBuilder($"author {source.Author} seq {source.Seq}:");
        int treeEdits = random.Next(4);
        for (int e = 0; e < treeEdits; e++)
        {
            MutateTree(corpus, tree, random, maxDepth, description);
        }

        byte[] bytes = tree.ToWire(random.Next(3) == 0 ? null : random);
        if ((random.Next(2) == 0 || treeEdits == 0) && random.Next(3) != 0)
        {
            description.Append(" bytes:");
            bytes = MutateBytes(corpus, bytes, random, description);
            return new FuzzInput { Bytes = bytes, Description = description.ToString(), Source = source };
        }

        return new FuzzInput { Bytes = bytes, Description = description.ToString(), Tree = tree, Source = source, EnvelopeIntact = IsIntact(tree, source) };
    }

    /// <summary>Whether the envelope still carries the source's key, signature and a numeric seq, with nothing that changes how they are read.</summary>
    private static bool IsIntact(FuzzJson envelope, GenuineMessage source) =>
        envelope.Get("data") is { Kind: FuzzJsonKind.Object } data
        && data.Get("signature") is { Kind: FuzzJsonKind.String } signature && signature.Text == source.SignatureText
        && envelope.Get("public") is { Kind: FuzzJsonKind.String } key && key.Text == source.PublicText
        && envelope.Get("seq") is { Kind: FuzzJsonKind.Number }
        && envelope.Get("curve") is null
        && data.Get("__proto__") is null;

    /// <summary>Raw noise, sometimes dressed as the start of a line.</summary>
    public static FuzzInput Noise(Random random)
    {
        byte[] bytes = new byte[random.Next(random.Next(8) == 0 ? 4096 : 96)];
        random.NextBytes(bytes);
        string prefix = random.Next(4) switch
        {
            0 => "{\"data\":{",
            1 => "{\"sg2\":\"",
            2 => "{",
            _ => string.Empty,
        };
        return new FuzzInput { Bytes = [.. Encoding.ASCII.GetBytes(prefix), .. bytes], Description = "noise" };
    }

    /// <summary>One tree edit (the return value says nothing; <see cref="IsIntact"/> judges the result).</summary>
    private static bool MutateTree(FuzzCorpus corpus, FuzzJson envelope, Random random, int maxDepth, StringBuilder description)
    {
        if (envelope.Get("data") is not { Kind: FuzzJsonKind.Object } data)
        {
            // An earlier edit took the data object away: only the envelope is left to edit.
            data = FuzzJson.Object();
            envelope.Members.Add(FuzzJson.Member("data", data));
        }

        int choice = random.Next(16);
        description.Append(" t").Append(choice);
        switch (choice)
        {
            case 0:
            {
                // Change, add or remove a value anywhere in the payload.
                (FuzzJson container, int index) = PickSlot(data, random);
                if (container.Kind == FuzzJsonKind.Object)
                {
                    if (index < container.Members.Count && container.Members[index].Key != "signature" && random.Next(3) == 0)
                    {
                        container.Members.RemoveAt(index);
                    }
                    else if (index < container.Members.Count && container.Members[index].Key != "signature")
                    {
                        container.Members[index] = FuzzJson.Member(container.Members[index].Key, FuzzValues.Value(random, 2));
                    }
                    else
                    {
                        container.Members.Insert(Math.Min(index, container.Members.Count), FuzzJson.Member(FuzzValues.Key(random), FuzzValues.Value(random, 2)));
                    }
                }
                else if (index < container.Items.Count)
                {
                    container.Items[index] = FuzzValues.Value(random, 2);
                }
                else
                {
                    container.Items.Add(FuzzValues.Value(random, 2));
                }

                return true;
            }

            case 1:
            {
                // A repeated key: before its last occurrence (JavaScript keeps that one's value and the first position),
                // or after it (the new value wins).
                FuzzJson target = PickObject(data, random);
                if (target.Members.Count == 0)
                {
                    return true;
                }

                int at = random.Next(target.Members.Count);
                KeyValuePair<string, FuzzJson> member = target.Members[at];
                target.Members.Insert(random.Next(2) == 0 ? at : at + 1, FuzzJson.Member(member.Key, FuzzValues.Value(random, 1)));
                return true;
            }

            case 2:
            {
                // Swap two members or items.
                FuzzJson target = PickContainer(data, random);
                int count = target.Kind == FuzzJsonKind.Object ? target.Members.Count : target.Items.Count;
                if (count < 2)
                {
                    return true;
                }

                int a = random.Next(count), b = random.Next(count);
                if (target.Kind == FuzzJsonKind.Object)
                {
                    (target.Members[a], target.Members[b]) = (target.Members[b], target.Members[a]);
                }
                else
                {
                    (target.Items[a], target.Items[b]) = (target.Items[b], target.Items[a]);
                }

                return true;
            }

            case 3:
            {
                // Deep nesting around a value: near, at and past the depth limit.
                int levels = random.Next(4) switch
                {
                    0 => maxDepth - 3 + random.Next(6),
                    1 => random.Next(1, 2 * maxDepth),
                    _ => random.Next(1, 12),
                };
                FuzzJson value = FuzzValues.Value(random, 0);
                for (int i = 0; i < levels; i++)
                {
                    value = random.Next(2) == 0 ? FuzzJson.Array(value) : FuzzJson.Object(FuzzJson.Member(FuzzValues.Key(random), value));
                }

                data.Members.Insert(random.Next(data.Members.Count + 1), FuzzJson.Member(FuzzValues.Key(random), value));
                return true;
            }

            case 4:
                // Respell a number (same value: must still verify) or put an edge-case one in.
                foreach (FuzzJson number in Numbers(data).Take(1 + random.Next(3)))
                {
                    FuzzJson replacement = FuzzValues.Number(random);
                    number.Text = replacement.Text;
                    number.Canonical = replacement.Canonical;
                }

                return true;
            case 5:
                // Strings full of escapes, lone surrogates, separators.
                data.Members.Insert(random.Next(data.Members.Count + 1), FuzzJson.Member(FuzzValues.String(random, 4), FuzzJson.String(FuzzValues.String(random, 40))));
                return true;
            case 6:
                ReplaceMember(envelope, "seq", Scalar(s_seqs[random.Next(s_seqs.Length)]));
                return false;
            case 7:
                ReplaceMember(envelope, "public", FuzzJson.String(KeySpelling(corpus, random)));
                return false;
            case 8:
                ReplaceMember(data, "signature", SignatureSpelling(corpus, random));
                return false;
            case 9:
            {
                // A signed seq: forged into a plain message, or changed in a signed one.
                FuzzJson sg = FuzzJson.Object(FuzzJson.Member("seq", Scalar(s_seqs[random.Next(s_seqs.Length)])));
                if (data.Get("$sg") is { } existing && random.Next(2) == 0)
                {
                    existing.Members.Add(FuzzJson.Member("seq", Scalar(s_seqs[random.Next(s_seqs.Length)])));
                }
                else
                {
                    data.Members.Insert(random.Next(data.Members.Count + 1), FuzzJson.Member("$sg", sg));
                }

                return true;
            }

            case 10:
            {
                // Envelope members: repeated (a decoy data before or after), reordered, removed, extra ones.
                int at = random.Next(envelope.Members.Count);
                switch (random.Next(5))
                {
                    case 0:
                        envelope.Members.Insert(random.Next(envelope.Members.Count + 1), FuzzJson.Member(envelope.Members[at].Key, FuzzValues.Value(random, 2)));
                        break;
                    case 1:
                        int other = random.Next(envelope.Members.Count);
                        (envelope.Members[at], envelope.Members[other]) = (envelope.Members[other], envelope.Members[at]);
                        return true;
                    case 2:
                        envelope.Members.RemoveAt(at);
                        break;
                    case 3:
                        envelope.Members.Insert(random.Next(envelope.Members.Count + 1), FuzzJson.Member(random.Next(2) == 0 ? "curve" : FuzzValues.Key(random), random.Next(2) == 0 ? FuzzJson.String("ed25519") : FuzzValues.Value(random, 1)));
                        break;
                    default:
                        // Another message's data under this key: must never verify.
                        GenuineMessage other2 = corpus.Messages[random.Next(corpus.Messages.Count)];
                        ReplaceMember(envelope, "data", other2.Envelope().Get("data")!);
                        break;
                }

                return false;
            }

            case 11:
                // __proto__: JSON.parse makes it an own property; ssb-keys' clone turns it into the prototype.
                data.Members.Insert(random.Next(data.Members.Count + 1), FuzzJson.Member("__proto__", random.Next(2) == 0
                    ? FuzzJson.Object(FuzzJson.Member("signature", FuzzJson.String(data.Get("signature")?.Text ?? "x")))
                    : FuzzValues.Value(random, 1)));
                return false;
            case 12:
            {
                // Index keys in any order, and near-index keys.
                string[] keys = ["0", "1", "2", "10", "9", "4294967294", "4294967295", "00", "-0", "1e1"];
                data.Members.Insert(random.Next(data.Members.Count + 1), FuzzJson.Member(keys[random.Next(keys.Length)], FuzzValues.Value(random, 1)));
                return true;
            }

            case 13:
                // Oversize: a long string (sometimes past the 1 MiB line limit).
                data.Members.Add(FuzzJson.Member("big", FuzzJson.String(new string('x', random.Next(64) switch
                {
                    0 => (1024 * 1024) + random.Next(100),
                    1 or 2 or 3 => random.Next(70_000),
                    _ => random.Next(4096),
                }))));
                return true;
            case 14:
                // The same signature and key on another author's or message's envelope.
                GenuineMessage donor = corpus.Messages[random.Next(corpus.Messages.Count)];
                ReplaceMember(envelope, random.Next(2) == 0 ? "public" : "seq", random.Next(2) == 0 ? FuzzJson.String(donor.PublicText) : FuzzJson.Integer(donor.Seq + random.Next(-1, 3)));
                return false;
            default:
                // A replay under a higher seq (v1 accepts it; by id it is the same message).
                ReplaceMember(envelope, "seq", FuzzJson.Integer(random.Next(2) == 0 ? random.NextInt64(0, 1L << 53) : random.Next(0, 1000)));
                return false;
        }
    }

    private static FuzzJson Scalar(string wire) => wire switch
    {
        "\"1\"" => FuzzJson.String("1"),
        "null" => FuzzJson.Literal(FuzzJsonKind.Null),
        "true" => FuzzJson.Literal(FuzzJsonKind.True),
        "[1]" => FuzzJson.Array(FuzzJson.Integer(1)),
        "{}" => FuzzJson.Object(),
        _ => FuzzJson.Number(wire, s_seqCanonical[wire]),
    };

    private static readonly Dictionary<string, string> s_seqCanonical = new(StringComparer.Ordinal)
    {
        ["-1"] = "-1", ["0"] = "0", ["-0"] = "0", ["1.5"] = "1.5", ["9007199254740991"] = "9007199254740991",
        ["9007199254740992"] = "9007199254740992", ["9007199254740993"] = "9007199254740992", ["1e308"] = "1e+308",
        ["1e400"] = "null", ["-1e400"] = "null", ["4294967295"] = "4294967295", ["999999999999"] = "999999999999",
        ["1E2"] = "100", ["0.0"] = "0", ["123456789012345678901234567890"] = "1.2345678901234568e+29",
    };

    /// <summary>A spelling of some key: the same key differently (sigil, URL-safe, junk, no padding) or broken.</summary>
    private static string KeySpelling(FuzzCorpus corpus, Random random)
    {
        string key = corpus.Keys[random.Next(corpus.Keys.Count)].Public;
        string body = key[..key.IndexOf('.', StringComparison.Ordinal)];
        return random.Next(12) switch
        {
            0 => "@" + key,
            1 => "%" + key,
            2 => body.Replace('+', '-').Replace('/', '_') + ".ed25519",
            3 => body.TrimEnd('=') + ".ed25519",
            4 => body.Insert(random.Next(body.Length), "!*~ é") + ".ed25519",
            5 => body + ".ed25518",
            6 => body + ".ED25519",
            7 => body,
            8 => body + ".sig.ed25519",
            9 => body[..^4] + ".ed25519",
            10 => string.Empty,
            _ => body + "AAAA.ed25519",
        };
    }

    private static FuzzJson SignatureSpelling(FuzzCorpus corpus, Random random)
    {
        GenuineMessage message = corpus.Messages[random.Next(corpus.Messages.Count)];
        string text = message.SignatureText;
        string body = text[..text.IndexOf('.', StringComparison.Ordinal)];
        char flipped = body[5] == 'A' ? 'B' : 'A';
        return random.Next(9) switch
        {
            0 => FuzzJson.String(body.Replace('+', '-').Replace('/', '_') + ".sig.ed25519"),
            1 => FuzzJson.String(body.TrimEnd('=')),
            2 => FuzzJson.String(string.Concat(body.AsSpan(0, 5), flipped.ToString(), body.AsSpan(6)) + ".sig.ed25519"),
            3 => FuzzJson.String(body[..^8] + ".sig.ed25519"),
            4 => FuzzJson.String(body + "AAAA.sig.ed25519"),
            5 => FuzzJson.Integer(64),
            6 => FuzzJson.String(string.Empty),
            7 => FuzzJson.String("&" + body.Insert(10, "\u00e9\n") + ".sig.ed25519"),
            _ => FuzzJson.String(text),
        };
    }

    private static void ReplaceMember(FuzzJson target, string key, FuzzJson value)
    {
        int at = target.Members.FindLastIndex(m => m.Key == key);
        if (at >= 0)
        {
            target.Members[at] = FuzzJson.Member(key, value);
        }
        else
        {
            target.Members.Add(FuzzJson.Member(key, value));
        }
    }

    private static IEnumerable<FuzzJson> Numbers(FuzzJson value) => value.Kind switch
    {
        FuzzJsonKind.Number => [value],
        FuzzJsonKind.Object => value.Members.SelectMany(m => Numbers(m.Value)),
        FuzzJsonKind.Array => value.Items.SelectMany(Numbers),
        _ => [],
    };

    private static IEnumerable<FuzzJson> Containers(FuzzJson value) => value.Kind switch
    {
        FuzzJsonKind.Object => [value, .. value.Members.SelectMany(m => Containers(m.Value))],
        FuzzJsonKind.Array => [value, .. value.Items.SelectMany(Containers)],
        _ => [],
    };

    private static FuzzJson PickContainer(FuzzJson root, Random random)
    {
        List<FuzzJson> all = [.. Containers(root)];
        return all[random.Next(all.Count)];
    }

    private static FuzzJson PickObject(FuzzJson root, Random random)
    {
        List<FuzzJson> all = [.. Containers(root).Where(c => c.Kind == FuzzJsonKind.Object)];
        return all[random.Next(all.Count)];
    }

    private static (FuzzJson Container, int Index) PickSlot(FuzzJson root, Random random)
    {
        FuzzJson container = PickContainer(root, random);
        int count = container.Kind == FuzzJsonKind.Object ? container.Members.Count : container.Items.Count;
        return (container, random.Next(count + 1));
    }

    /// <summary>Byte edits on a rendered line.</summary>
    public static byte[] MutateBytes(FuzzCorpus corpus, byte[] line, Random random, StringBuilder description)
    {
        var bytes = new List<byte>(line);
        int edits = 1 + random.Next(random.Next(4) == 0 ? 12 : 3);
        for (int e = 0; e < edits; e++)
        {
            int at = random.Next(bytes.Count + 1);
            int choice = random.Next(10);
            description.Append(" b").Append(choice);
            switch (choice)
            {
                case 0 when at < bytes.Count:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when at < bytes.Count:
                    bytes[at] = random.Next(2) == 0 ? (byte)random.Next(256) : s_tokens[random.Next(s_tokens.Length)];
                    break;
                case 2:
                    bytes.Insert(at, s_tokens[random.Next(s_tokens.Length)]);
                    break;
                case 3:
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(random.Next(4) == 0 ? 64 : 4)));
                    break;
                case 4:
                    bytes.RemoveRange(at, bytes.Count - at); // truncate
                    break;
                case 5:
                    bytes.InsertRange(at, s_badUtf8[random.Next(s_badUtf8.Length)]);
                    break;
                case 6:
                {
                    // Splice a piece of another genuine line in.
                    GenuineMessage other = corpus.Messages[random.Next(corpus.Messages.Count)];
                    byte[] donor = other.Envelope().ToWire(null);
                    int from = random.Next(donor.Length);
                    bytes.InsertRange(at, donor.AsSpan(from, Math.Min(donor.Length - from, random.Next(1, 120))).ToArray());
                    break;
                }

                case 7:
                {
                    // Duplicate a slice of the line itself.
                    int from = random.Next(bytes.Count + 1);
                    bytes.InsertRange(at, bytes.GetRange(from, Math.Min(bytes.Count - from, random.Next(1, 40))));
                    break;
                }

                case 8:
                    bytes.InsertRange(at, Enumerable.Repeat(random.Next(2) == 0 ? (byte)'[' : (byte)'{', random.Next(1, 300)));
                    break;
                default:
                    // Swap two bytes.
                    if (bytes.Count > 1 && at < bytes.Count)
                    {
                        int other = random.Next(bytes.Count);
                        (bytes[at], bytes[other]) = (bytes[other], bytes[at]);
                    }

                    break;
            }
        }

        return [.. bytes];
    }
}
