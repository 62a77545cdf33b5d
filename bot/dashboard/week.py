"""The numbers behind the Charts page: the last 7 calendar days from the audit stream and the feedback counts.

A day is a calendar day in this machine's time, today last: an event counts on the day it happened, so a bar does
not move at midnight. Everything here is counts and seconds, keyed by our own ids; no text is read.

Tiers: the `assigned` and `first_reply` events carry the conversation's tier (the tier the person waited with,
and had when the volunteer first replied). Older events did not; for them the tier of the conversation's last
escalation is used, else "none".
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from routing.intake import FEEDBACK_CHOICES
from routing.model import RiskTier
from routing.store.views import AuditEvent

DAY = 24 * 3600
DAYS = 7
QUEUED_EVENTS = frozenset({"queued", "queued_out_of_hours"})  # out of hours, people still wait and are taken
FEEDBACK_VALUES = tuple(value for _label, value in FEEDBACK_CHOICES)  # better, same, worse: the legend's order


@dataclass(frozen=True, slots=True)
class WeekSeries:
    """Per day, oldest first, today last (seven values each); times in seconds, None for a day without any."""

    started_per_day: list[int]  # conversations that joined the queue
    wait_by_tier: dict[str, list[float | None]]  # tier -> median wait (queued -> assigned), tiers in risk order
    first_reply_by_tier: dict[str, list[float | None]]  # tier -> median time from taking a person to a first reply
    ack_per_day: list[float | None]  # median time from an escalation to its acknowledgement
    feedback_per_day: dict[str, list[int]]  # better / same / worse -> answers (once per conversation)
    first_reply_week: float | None = None  # median over all seven days, every tier
    first_replies: int = 0
    plans_per_day: list[int] = field(default_factory=lambda: [0] * DAYS)  # safety plans finished
    shared_per_day: dict[str, list[int]] = field(default_factory=dict)  # coping text name -> times shared


def chart_days(now: float) -> list[date]:
    """The calendar days the charts show, oldest first, today last."""
    today = datetime.fromtimestamp(now).date()
    return [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _seconds(value: str | None) -> float | None:
    try:
        return max(float(value or ""), 0.0)
    except ValueError:
        return None


def _risk_order(tier: str) -> tuple[int, str]:
    try:
        return (RiskTier.parse(tier).value, tier)
    except ValueError:
        return (len(RiskTier), tier)  # a word we do not know (never written by us) goes last


class _Tally:
    """The week's events sorted into days as they are read (oldest first, as the audit stream gives them)."""

    def __init__(self, now: float) -> None:
        self.today = datetime.fromtimestamp(now).date()
        self.queued: dict[str, float] = {}
        self.raised: dict[str, float] = {}
        self.escalated: dict[str, str] = {}  # conversation -> tier of its last escalation (for older events)
        self.started = [0] * DAYS
        self.waits: dict[str, list[list[float]]] = defaultdict(self._week)
        self.replies: dict[str, list[list[float]]] = defaultdict(self._week)
        self.acks = self._week()
        self.plans = [0] * DAYS
        self.shared: dict[str, list[int]] = defaultdict(lambda: [0] * DAYS)

    @staticmethod
    def _week() -> list[list[float]]:
        return [[] for _ in range(DAYS)]

    def day(self, at: float) -> int | None:
        """The bar an event belongs to: its calendar day, today last; None for a day before the chart."""
        back = (self.today - datetime.fromtimestamp(at).date()).days
        return DAYS - 1 - back if 0 <= back < DAYS else None

    def tier(self, e: AuditEvent, conv: str) -> str:
        return e.fields.get("tier") or self.escalated.get(conv, RiskTier.NONE.label)

    def add(self, e: AuditEvent) -> None:
        conv, day = e.fields.get("conversation", ""), self.day(e.at)
        if e.event in QUEUED_EVENTS:
            self.queued[conv] = e.at
            if day is not None:
                self.started[day] += 1
        elif e.event == "escalation_raised":
            self.raised[e.fields.get("escalation", "")] = e.at
            self.escalated[conv] = e.fields.get("tier", self.escalated.get(conv, RiskTier.NONE.label))
        elif e.event == "assigned" and conv in self.queued:
            waited = e.at - self.queued.pop(conv)
            if day is not None:
                self.waits[self.tier(e, conv)][day].append(waited)
        elif e.event == "escalation_acknowledged" and e.fields.get("escalation") in self.raised:
            took = e.at - self.raised.pop(e.fields["escalation"])
            if day is not None:
                self.acks[day].append(took)
        elif e.event == "safety_plan_completed" and day is not None:
            self.plans[day] += 1
        elif e.event == "coping_shared" and day is not None:
            self.shared[e.fields.get("coping", "?")][day] += 1
        elif e.event == "first_reply" and day is not None and (spent := _seconds(e.fields.get("seconds"))) is not None:
            self.replies[self.tier(e, conv)][day].append(spent)


def _medians(by_tier: dict[str, list[list[float]]]) -> dict[str, list[float | None]]:
    return {tier: [_median(d) for d in by_tier[tier]] for tier in sorted(by_tier, key=_risk_order)}


def week_series(events: list[AuditEvent], now: float, feedback: Sequence[Mapping[str, int]] = ()) -> WeekSeries:
    """The week's numbers from the audit events (oldest first) and the feedback counts of the chart's days
    (`FeedbackCounts.days(chart_days(now))`; none given: no answers)."""
    tally = _Tally(now)
    for e in events:
        tally.add(e)
    answers = list(feedback) or [{} for _ in range(DAYS)]
    every_reply = [s for days in tally.replies.values() for d in days for s in d]
    return WeekSeries(
        started_per_day=tally.started,
        wait_by_tier=_medians(tally.waits),
        first_reply_by_tier=_medians(tally.replies),
        ack_per_day=[_median(d) for d in tally.acks],
        feedback_per_day={value: [day.get(value, 0) for day in answers] for value in FEEDBACK_VALUES},
        first_reply_week=_median(every_reply),
        first_replies=len(every_reply),
        plans_per_day=tally.plans,
        shared_per_day={name: tally.shared[name] for name in sorted(tally.shared)},
    )
