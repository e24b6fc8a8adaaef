"""The monitored population in columns, and evaluating every household of it at once."""
