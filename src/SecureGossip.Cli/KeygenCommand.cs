using System.CommandLine;
using SecureGossip.Crypto;

namespace SecureGossip.Cli;

internal static class KeygenCommand
{
    public static string DefaultKeysPath => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".sgossip", "secret");

    public static Command Create()
    {
        var keys = new Option<string>("--keys")
        {
            Description = "Where to write the ssb-keys secret file (never overwritten).",
            DefaultValueFactory = _ => DefaultKeysPath,
        };
        var networkKey = new Option<bool>("--network-key") { Description = "Print a fresh 32-byte network key (base64) for sgossip node --network-key, and write nothing." };
        var command = new Command("keygen", "Create an ed25519 key pair, write it as an ssb-keys secret file, print its public key (as it appears in the from field of received messages).") { keys, networkKey };
        command.SetAction(parseResult =>
        {
            if (parseResult.GetValue(networkKey))
            {
                // A private network's key: whoever holds it can join (and, with --plain nodes, read), so share it like a password.
                Console.Out.WriteLine(Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
                return 0;
            }

            string path = parseResult.GetValue(keys)!;
            if (Directory.Exists(path))
            {
                Console.Error.WriteLine($"error: --keys {path} is a directory; give the path of a file to create.");
                return 1;
            }

            if (File.Exists(path))
            {
                Console.Error.WriteLine($"error: {path} already exists; it is never overwritten.");
                return 1;
            }

            using GossipKeys created = GossipKeys.Generate();
            try
            {
                created.Save(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: cannot write {path}: {e.Message}");
                return 1;
            }

            Console.Out.WriteLine(created.Public); // the spelling of "from" in sgossip node's output and of the node's log
            return 0;
        });
        return command;
    }
}
