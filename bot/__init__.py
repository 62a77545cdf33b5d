"""Composition root: CLI, settings, embedded Redis, wiring and the web server. Nothing imports this package."""
