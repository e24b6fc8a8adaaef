"""Operations: consumer lag read from the broker, and the local stack's Prometheus scrape configuration."""
