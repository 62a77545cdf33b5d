"""How the waiting queue is ordered: a pure function from (tier, arrival) to a sorted-set score.

Lower scores are served first. People at `high` or `imminent` risk are always ahead of everyone else
(imminent before high, then by arrival). Below that, each tier is worth `aging_seconds` of waiting: an
ordinary person who has waited longer than that goes ahead of a newly arrived `review` person, so a busy
evening of higher-tier arrivals can never keep someone waiting forever. The score is fixed at enqueue time
(and recomputed when the tier rises), so `next` stays one O(log n) ZPOPMIN-like step with no rescoring.
"""

from __future__ import annotations

from routing.model import RiskTier

# Band widths are far larger than any Unix timestamp (~1.8e9 now), so bands never overlap; doubles keep
# microsecond resolution at these magnitudes (53-bit mantissa).
_BAND = 1e10
DEFAULT_AGING_SECONDS = 15 * 60


def queue_score(tier: RiskTier, arrival: float, aging_seconds: float = DEFAULT_AGING_SECONDS) -> float:
    """Score for the waiting sorted set; lower is served first."""
    if tier >= RiskTier.HIGH:
        return (RiskTier.IMMINENT - tier) * _BAND + arrival
    return 2 * _BAND + (_BAND / 2) + arrival - int(tier) * aging_seconds


def is_urgent_score(score: float) -> bool:
    """True when the score belongs to the high/imminent band."""
    return score < 2 * _BAND
