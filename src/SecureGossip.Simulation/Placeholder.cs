namespace SecureGossip.Simulation;
