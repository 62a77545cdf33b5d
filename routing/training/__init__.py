"""Training conversations: a coordinator starts a practice session in which the bot plays a scripted person.

The pure parts are the scenario model (`scenario`), its TOML files (`scenario_file`), the script engine
(`script`) and the debrief (`debrief`); `desk` applies them, keeping session state in Redis through
`routing.store.training` and talking only in the volunteer's TRAINING thread and the staff lobby. A practice
session never enters the real queue, the risk detector, escalations, metrics or the audit stream.
"""

from __future__ import annotations

from routing.model import ConversationId

SESSION_PREFIX = "t-"  # real conversations are "c-<n>"; a practice session's thread maps to "t-<n>"


def is_training_session(conv: ConversationId) -> bool:
    """True when a staff thread belongs to a practice session rather than to a real person."""
    return conv.startswith(SESSION_PREFIX)
