"""Casework: caseworker queues per district, leases, decisions with an audit trail and an outbox, the caseworker
API and console. Redis holds the queues as a view that can be rebuilt from assist.tasks and assist.decisions."""
