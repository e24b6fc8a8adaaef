"""Casework's pure rules: queue order, priority bands and SLA states, who may see and do what, the transitions
of a task and how a task's history folds into its current state. No I/O."""
