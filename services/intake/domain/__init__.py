"""Intake's pure rules: identity numbers, pseudonyms, who may publish what, batch outcomes. No I/O."""
