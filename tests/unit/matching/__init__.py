"""Unit tests of the matching domain."""
