"""What the platform achieved: offers made and what became of them, time from event to offer and from offer to
decision, warnings raised and how many a visit confirmed; per policy, trigger event type and district, read from
the topics (the record), never from a service's view."""
