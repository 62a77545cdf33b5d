"""Risk detection: pure functions of text and recent context (no I/O besides loading phrase files)."""

from routing.risk.assessment import Assessment, PhraseMatch

__all__ = ["Assessment", "PhraseMatch"]
