"""The policy language: expressions as written in the catalogue, parsed by our own parser (never eval), and
their two compiled forms: scalar (one household) and vectorised (the whole population in columns)."""
