"""Simulator: a seeded synthetic population and the change events its departments would report."""
