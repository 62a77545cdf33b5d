"""peerbridge: sandboxes.discord package."""
