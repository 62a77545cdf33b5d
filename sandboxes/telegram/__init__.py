"""peerbridge: sandboxes.telegram package."""
