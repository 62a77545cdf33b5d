"""Small interfaces the router depends on, so tests and other implementations can plug in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from routing.risk.assessment import Assessment


class RiskAssessor(Protocol):
    """Anything that can rate a message's risk given the same person's recent earlier messages."""

    def assess(self, text: str, context: Sequence[str] = ()) -> Assessment: ...
