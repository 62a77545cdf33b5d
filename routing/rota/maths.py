"""Questions the router and coordinators ask of a rota (pure; every datetime aware, every answer in UTC).

"On shift" here means scheduled: weekly shifts plus cover, minus absences. Whether someone is *on duty*
(checked in with /on, not on a break, not cooling down) is the router's business on top of this.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise

from routing.i18n import S_
from routing.model import VolunteerId
from routing.rota.clock import ONE_DAY, Duty, OnCallSpan, duties, local_day_bounds, oncall_spans, utc, wall_to_instant
from routing.rota.model import Rota
from routing.rota.words import say

WEEK = timedelta(days=7)
_TICK = timedelta(microseconds=1)


class GapKind(enum.StrEnum):
    """What is missing during a gap."""

    NO_VOLUNTEER = "no_volunteer"  # nobody on shift
    NO_ONCALL = "no_oncall"  # no on-call professional (none scheduled, or they are absent)
    NO_BACKUP = "no_backup"  # an on-call professional but no backup

    @property
    def description(self) -> str:
        """What is missing, in the staff language ("no volunteer on shift")."""
        return say(_GAP_WORDS[self])


_GAP_WORDS = {
    GapKind.NO_VOLUNTEER: S_("no volunteer on shift"),
    GapKind.NO_ONCALL: S_("no on-call professional"),
    GapKind.NO_BACKUP: S_("no on-call backup"),
}


@dataclass(frozen=True, slots=True)
class Gap:
    """[start, end) in UTC during which `kind` is missing."""

    kind: GapKind
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class OnCall:
    """Who to escalate to at an instant; either may be None (not scheduled, or absent)."""

    primary: VolunteerId | None
    backup: VolunteerId | None

    @property
    def first(self) -> VolunteerId | None:
        """The person to call first: the primary, else the backup."""
        return self.primary or self.backup


@dataclass(frozen=True, slots=True)
class ShiftEnding:
    """Someone whose time on shift ends at `end` (UTC), counting back-to-back shifts as one."""

    volunteer: VolunteerId
    end: datetime


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Scheduled hours of one person in one week, against their limit."""

    volunteer: VolunteerId
    hours: float
    limit: float


def on_shift(rota: Rota, at: datetime) -> set[VolunteerId]:
    """Who is scheduled on shift at `at` (half-open: a 09:00-17:00 shift is not on at 17:00)."""
    at = utc(at)
    return {d.volunteer for d in duties(rota, at, at + _TICK) if d.start <= at < d.end}


def on_call(rota: Rota, at: datetime) -> OnCall:
    """The on-call professional and backup at `at`; OnCall(None, None) if no block covers it."""
    at = utc(at)
    for span in oncall_spans(rota, at, at + _TICK):
        if span.start <= at < span.end:
            return OnCall(span.primary, span.backup)
    return OnCall(None, None)


def gaps(rota: Rota, start: datetime, end: datetime) -> list[Gap]:
    """Every stretch of [start, end) with nobody on shift, no on-call professional or no backup.

    Gaps of one kind are merged and clipped to the window; the list is ordered by start, then kind.
    """
    start, end = utc(start), utc(end)
    if end <= start:
        return []
    on_duty = duties(rota, start, end)
    calls = oncall_spans(rota, start, end)
    cuts = {start, end}
    cuts |= {t for d in on_duty for t in (d.start, d.end) if start < t < end}
    cuts |= {t for s in calls for t in (s.start, s.end) if start < t < end}
    found: list[Gap] = []
    for a, b in pairwise(sorted(cuts)):
        for kind in _missing_at(a, on_duty, calls):
            found = _extend(found, Gap(kind, a, b))
    return sorted(found, key=lambda g: (g.start, list(GapKind).index(g.kind)))


def _missing_at(at: datetime, on_duty: list[Duty], calls: list[OnCallSpan]) -> list[GapKind]:
    missing = []
    if not any(d.start <= at < d.end for d in on_duty):
        missing.append(GapKind.NO_VOLUNTEER)
    span = next((s for s in calls if s.start <= at < s.end), None)
    if span is None or span.primary is None:
        missing.append(GapKind.NO_ONCALL)
    if span is None or span.backup is None:
        missing.append(GapKind.NO_BACKUP)
    return missing


def _extend(found: list[Gap], gap: Gap) -> list[Gap]:
    """Add `gap`, merging it into an earlier gap of the same kind that ends where it starts."""
    for i, earlier in enumerate(found):
        if earlier.kind == gap.kind and earlier.end == gap.start:
            return [*found[:i], Gap(gap.kind, earlier.start, gap.end), *found[i + 1 :]]
    return [*found, gap]


def coverage(rota: Rota, day: date) -> list[Gap]:
    """The gaps of one local day (23 or 25 hours long on a DST change)."""
    return gaps(rota, *local_day_bounds(day, rota.zone))


def next_available(rota: Rota, after: datetime, horizon: timedelta = timedelta(days=366)) -> datetime | None:
    """When someone is next scheduled on shift, from `after` on: `after` itself if someone is on now.

    None if nobody is scheduled within `horizon` (the out-of-hours reply then gives no time).
    """
    after = utc(after)
    window = after
    while window < after + horizon:
        for duty in duties(rota, window, window + WEEK):
            if duty.end > after:
                return max(duty.start, after)
        window += WEEK
    return None


def shift_ending_soon(rota: Rota, at: datetime, within: timedelta) -> list[ShiftEnding]:
    """Who is on shift at `at` and goes off within `within` (a shift followed straight on by another of the
    same person's does not count as ending). Ordered by end, then id."""
    at = utc(at)
    nearby = duties(rota, at - ONE_DAY, at + within + ONE_DAY)
    endings = []
    for volunteer in sorted({d.volunteer for d in nearby if d.start <= at < d.end}):
        end = _stretch_end(at, [d for d in nearby if d.volunteer == volunteer])
        if end - at <= within:
            endings.append(ShiftEnding(volunteer, end))
    return sorted(endings, key=lambda e: (e.end, e.volunteer))


def _stretch_end(at: datetime, own: list[Duty]) -> datetime:
    """End of the unbroken time on shift containing `at` (own duties are sorted by start)."""
    end = at
    for duty in own:
        if duty.start <= end and duty.end > end:
            end = duty.end
    return end


def week_bounds(rota: Rota, week_of: date) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) local, in UTC, of the week containing `week_of`."""
    monday = week_of - timedelta(days=week_of.weekday())
    return wall_to_instant(monday, 0, rota.zone), wall_to_instant(monday + WEEK, 0, rota.zone)


def hours_this_week(rota: Rota, volunteer: VolunteerId, week_of: date) -> float:
    """Scheduled hours (real elapsed time, so DST nights count true) of `volunteer` in the local Monday-to-Sunday
    week containing `week_of`; shifts crossing the week's edges count only their part inside it."""
    start, end = week_bounds(rota, week_of)
    total = timedelta()
    for duty in duties(rota, start, end):
        if duty.volunteer == volunteer:
            total += min(duty.end, end) - max(duty.start, start)
    return total.total_seconds() / 3600


def over_weekly_limit(rota: Rota, week_of: date) -> list[WeeklyHours]:
    """Everyone scheduled for more than their `weekly_hours` in the week containing `week_of`."""
    over = []
    for member in rota.staff:
        if member.weekly_hours is None:
            continue
        hours = hours_this_week(rota, member.id, week_of)
        if hours > member.weekly_hours:
            over.append(WeeklyHours(member.id, hours, member.weekly_hours))
    return over


def duties_on(rota: Rota, day: date) -> list[Duty]:
    """Time on shift overlapping a local day (not clipped), by start."""
    return duties(rota, *local_day_bounds(day, rota.zone))


def oncall_on(rota: Rota, day: date) -> list[OnCallSpan]:
    """On-call spans overlapping a local day (not clipped), by start."""
    return oncall_spans(rota, *local_day_bounds(day, rota.zone))
