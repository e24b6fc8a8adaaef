"""What every service shares: settings, topic names, the Avro/CloudEvents codec, Kafka wiring and metrics."""
