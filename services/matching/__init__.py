"""Matching: keeps household state from change events and evaluates the policy catalogue to produce offers."""
