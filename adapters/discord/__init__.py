"""peerbridge: adapters.discord package."""
