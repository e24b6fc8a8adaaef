"""A household as matching knows it: its state and parts, the facts policies read from it, how events and decisions
change it, what it has pending and receives, following up its outcomes, and risk monitoring."""
