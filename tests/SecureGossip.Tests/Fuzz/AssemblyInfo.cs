using System.Runtime.CompilerServices;

// The outside-CI fuzz driver (bench/SecureGossip.Fuzz) runs the same generators and oracles for millions of inputs.
[assembly: InternalsVisibleTo("SecureGossip.Fuzz")]
