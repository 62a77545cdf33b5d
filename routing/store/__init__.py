"""The Redis store: the only part of `routing` that talks to Redis."""
