using System.CommandLine;
using SecureGossip.Cli;

RootCommand root = new("sgossip: a secure-gossip node, wire-compatible with the secure-gossip 0.3.1 npm package.")
{
    DemoCommand.Create(),
    KeygenCommand.Create(),
    NodeCommand.Create(),
    SimCommand.Create(),
    SimOverlayCommand.Create(),
};

if (args.Length == 0)
{
    // Alone, sgossip says what it can do (on stderr: stdout carries only data) and fails, so a script notices.
    root.Parse("--help").Invoke(new InvocationConfiguration { Output = Console.Error });
    return 1;
}

// SIGINT and SIGTERM are handled by the commands themselves (a clean stop, exit code 0), not by System.CommandLine,
// which would report them as exit codes 130 and 143.
// No response files: "@file" would swallow a peer address such as --connect @KEY.ed25519@HOST:PORT.
ParseResult parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
if (parsed.Action is System.CommandLine.Invocation.ParseErrorAction error)
{
    error.ShowHelp = false; // stdout carries data (messages, sim results); errors stay on stderr
}

return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
