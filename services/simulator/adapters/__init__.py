"""The simulator's edges: the registry topic, the intake HTTP API and the raw event topic."""
