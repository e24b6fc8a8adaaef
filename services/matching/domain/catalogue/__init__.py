"""The policy catalogue: policies and their conditions, parameters with effective dates and regional values, named
definitions, the place index, charity programmes, table-driven cases, and reading and checking the YAML."""
