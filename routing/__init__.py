"""The domain: model, router, queue, assignment, risk, escalation and the Redis store. Knows no platform."""
