"""Matching's pure rules: household facts, the policy catalogue and its expression language, evaluation and
explanation. No I/O."""
