namespace SecureGossip.Tests.Fuzz;

/// <summary>One input that broke a property, with what it takes to reproduce it.</summary>
internal sealed record FuzzFailure(string Target, int Seed, long Index, string Description, string InputBase64, string Problem)
{
    public override string ToString() =>
        $"[{Target}] seed {Seed} input {Index}: {Problem}\n  mutations: {Description}\n  input (base64): {InputBase64}\n" +
        $"  reproduce: dotnet run -c Release --project bench/SecureGossip.Fuzz -- --target {Target} --seed {Seed} --start {Index} --inputs 1{(KnownFindings.Skip ? string.Empty : " --include-known")}";
}
