"""peerbridge: adapters.telegram package."""
