using System.CommandLine;
using SecureGossip.Cli;

RootCommand root = new("sgossip: a secure-gossip node, wire-compatible with the secure-gossip 0.3.1 npm package.")
{
    DemoCommand.Create(),
    KeygenCommand.Create(),
    NodeCommand.Create(),
};

return await root.Parse(args).InvokeAsync();
