"""Start-up errors a person must fix, each with a message that says how (the CLI prints it on one line)."""

from __future__ import annotations


class PortInUse(Exception):
    """The web server's port is taken; the message names the setting to change."""
