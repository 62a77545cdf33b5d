"""From the rota's wall clock to instants: the one place that knows about DST (pure).

Policy (the same for every start and end, so back-to-back entries stay back to back and nothing overlaps):
a wall-clock time means **the earliest instant at which a clock in the rota's timezone reads that time or
later**.

- A time that happens twice (clocks go back, e.g. 01:30 on the last Sunday of October in Europe/London)
  means its first occurrence. A shift 00:00-03:00 that night lasts 4 hours; one ending at 01:30 ends at the
  first 01:30, and the one starting at 01:30 starts then too.
- A time that does not happen (clocks go forward, e.g. 01:30 on the last Sunday of March in Europe/London)
  means the moment the clock jumps (02:00 BST). A shift 00:00-03:00 that night lasts 2 hours; one from 01:15
  to 01:45 does not happen at all that night.

So a 09:00-17:00 shift is 09:00-17:00 local on both sides of a change, and an overnight shift across a
change is an hour longer or shorter in real time. Every instant returned here is in UTC: Python compares
two datetimes of the same zone by wall clock (ignoring `fold`), which is wrong inside a repeated hour.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from routing.model import VolunteerId
from routing.rota.model import MINUTES_PER_DAY, Absence, Cover, OnCallBlock, Rota, Shift, TimeRange

ONE_DAY = timedelta(days=1)


def utc(at: datetime) -> datetime:
    """`at` in UTC; raises ValueError for a naive datetime (its zone would be a guess)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("the rota needs an aware datetime (with a timezone), not a naive one")
    return at.astimezone(UTC)


def wall_to_instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The instant (UTC) for `minute` after local midnight of `day` (1440 = the next midnight), by the policy."""
    day, minute = day + timedelta(days=minute // MINUTES_PER_DAY), minute % MINUTES_PER_DAY
    wall = datetime.combine(day, time(minute // 60, minute % 60))
    first = wall.replace(tzinfo=zone, fold=0)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:
        return first.astimezone(UTC)  # exists; fold=0 is the earlier of two occurrences
    return _end_of_gap(wall, zone)


def _end_of_gap(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant the clock jumped over `wall` (a skipped time): the first instant reading later than it."""
    # With the offset before the jump `wall` lands after the transition, with the offset after it lands
    # before; the transition lies between. Bisect to the second (transitions are on whole seconds).
    low = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)  # reads earlier than `wall`
    high = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)  # reads later than `wall`
    if high < low:
        low, high = high, low
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) < wall:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local day in UTC; 23 or 25 hours long on a DST change."""
    return wall_to_instant(day, 0, zone), wall_to_instant(day, MINUTES_PER_DAY, zone)


def span(day: date, time_range: TimeRange, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a range on `day`; empty (start == end) if it falls inside a skipped hour."""
    end_minute = time_range.end + (MINUTES_PER_DAY if time_range.crosses_midnight else 0)
    return wall_to_instant(day, time_range.start, zone), wall_to_instant(day, end_minute, zone)


@dataclass(frozen=True, slots=True)
class Duty:
    """One stretch of someone's time on shift, in UTC, absences already taken out."""

    volunteer: VolunteerId
    start: datetime
    end: datetime
    source: Shift | Cover

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


@dataclass(frozen=True, slots=True)
class OnCallSpan:
    """One on-call block on one date, in UTC; primary/backup are None while that person is absent."""

    primary: VolunteerId | None
    backup: VolunteerId | None
    start: datetime
    end: datetime
    source: OnCallBlock


def _dates(start: datetime, end: datetime, zone: ZoneInfo) -> Iterator[date]:
    """Local dates whose entries can touch [start, end): from the day before (overnight ranges) on."""
    day = start.astimezone(zone).date() - ONE_DAY
    last = end.astimezone(zone).date()
    while day <= last:
        yield day
        day += ONE_DAY


def absence_spans(rota: Rota, volunteer: VolunteerId) -> list[tuple[datetime, datetime]]:
    """The person's absences as [start, end) in UTC."""
    return [
        (wall_to_instant(a.first, 0, rota.zone), wall_to_instant(a.end, 0, rota.zone))
        for a in rota.absences
        if a.volunteer == volunteer
    ]


def _without(
    start: datetime, end: datetime, holes: Iterable[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """[start, end) minus the holes, as the pieces left (possibly none)."""
    pieces = [(start, end)]
    for hole_start, hole_end in holes:
        kept: list[tuple[datetime, datetime]] = []
        for a, b in pieces:
            if hole_end <= a or b <= hole_start:
                kept.append((a, b))
                continue
            if a < hole_start:
                kept.append((a, hole_start))
            if hole_end < b:
                kept.append((hole_end, b))
        pieces = kept
    return [(a, b) for a, b in pieces if a < b]


def duties(rota: Rota, start: datetime, end: datetime) -> list[Duty]:
    """Every stretch on shift (weekly shifts and cover, minus absences) that overlaps [start, end), by start.

    Duties are not clipped to the window. `start` and `end` must be aware.
    """
    start, end = utc(start), utc(end)
    zone = rota.zone
    raw: list[tuple[Shift | Cover, datetime, datetime]] = []
    for day in _dates(start, end, zone):
        raw += [(s, *span(day, s.time, zone)) for s in rota.shifts if s.day == day.weekday()]
        raw += [(c, *span(day, c.time, zone)) for c in rota.covers if c.day == day]
    absences = {v: absence_spans(rota, v) for v in {a.volunteer for a in rota.absences}}
    found: list[Duty] = []
    for source, a, b in raw:
        for piece_start, piece_end in _without(a, b, absences.get(source.volunteer, [])):
            if piece_start < end and start < piece_end:
                found.append(Duty(source.volunteer, piece_start, piece_end, source))
    return sorted(found, key=lambda d: (d.start, d.end, d.volunteer))


def oncall_spans(rota: Rota, start: datetime, end: datetime) -> list[OnCallSpan]:
    """On-call blocks overlapping [start, end), split where the primary's or backup's absence begins or ends."""
    start, end = utc(start), utc(end)
    zone = rota.zone
    found: list[OnCallSpan] = []
    for day in _dates(start, end, zone):
        for block in (b for b in rota.oncall if b.day == day.weekday()):
            a, b = span(day, block.time, zone)
            if a < end and start < b and a < b:
                found += _split_by_absence(rota, block, a, b)
    return sorted(found, key=lambda s: (s.start, s.end))


def _split_by_absence(rota: Rota, block: OnCallBlock, start: datetime, end: datetime) -> list[OnCallSpan]:
    people = [p for p in (block.professional, block.backup) if p is not None]
    holes = [hole for p in people for hole in absence_spans(rota, p)]
    cuts = sorted({start, end, *(t for hole in holes for t in hole if start < t < end)})
    spans: list[OnCallSpan] = []
    for a, b in pairwise(cuts):
        primary = None if _inside(a, absence_spans(rota, block.professional)) else block.professional
        backup = block.backup
        if backup is not None and _inside(a, absence_spans(rota, backup)):
            backup = None
        spans.append(OnCallSpan(primary, backup, a, b, block))
    return spans


def _inside(at: datetime, spans: Iterable[tuple[datetime, datetime]]) -> bool:
    return any(a <= at < b for a, b in spans)


def is_absent(rota: Rota, volunteer: VolunteerId, at: datetime) -> bool:
    """True if `at` falls in one of the person's absences."""
    return _inside(utc(at), absence_spans(rota, volunteer))


def absent_on(rota: Rota, volunteer: VolunteerId, day: date) -> Absence | None:
    """The absence covering local `day`, if any."""
    return next((a for a in rota.absences if a.volunteer == volunteer and a.covers(day)), None)
