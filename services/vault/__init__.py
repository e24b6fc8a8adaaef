"""The identity vault: names, addresses and phone numbers of monitored persons, held apart from the pseudonymised
pipeline, sealed at rest, and shown to a member of staff only on a task in their scope for a stated purpose, each
disclosure recorded on assist.disclosures before anything is shown."""
