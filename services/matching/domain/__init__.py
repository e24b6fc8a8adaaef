"""Matching's pure rules, no I/O: the policy language (policy_language), the catalogue and its parameters
(catalogue), household state, facts and changes (household), the population in columns (population), and
evaluation and explanation of policies for one household."""
