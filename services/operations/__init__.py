"""Operating the platform: consumer lag read from the broker, the local stack's Prometheus scrape configuration, the
Kubernetes ConfigMaps of the alert rules and dashboards, and the Kafka ACLs of the service principals."""
