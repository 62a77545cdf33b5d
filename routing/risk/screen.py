"""The ingest-time screen that sends a clearly high-risk message to the urgent inbound lane.

The router assesses every message with the person's recent context; this screen looks at the message alone,
so it only catches what is unmistakable on its own. That is the point: when the bridge is busy, those
messages must not wait behind a backlog of ordinary ones. A message the screen misses is still escalated by
the router, only from the ordinary lane.
"""

from __future__ import annotations

from collections.abc import Callable

from routing.model import InboundKind, InboundMessage, Origin, RiskTier
from routing.risk.detector import RiskDetector

SCREENED_CHARS = 4096  # enough for any crisis phrase; a 100 kB paste is screened by its start only


def urgent_screen(detector: RiskDetector) -> Callable[[InboundMessage], bool]:
    """True for a person's message (new or edited) that reads as high or imminent risk by itself."""

    def screen(message: InboundMessage) -> bool:
        if message.origin != Origin.PRIVATE or message.kind not in (InboundKind.MESSAGE, InboundKind.EDIT):
            return False
        text = message.text[:SCREENED_CHARS]
        return bool(text) and detector.assess(text).tier >= RiskTier.HIGH

    return screen
