"""The rota as data: weekly shifts, one-off cover, absences and on-call blocks in one named timezone (pure).

Times of day are wall-clock minutes in the rota's timezone; `routing.rota.clock` turns them into instants
(DST handled there, in one place). Everything here is frozen; a change makes a new `Rota`
(`routing.rota.changes`). The package's other modules are listed in `routing/rota/__init__.py`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from routing.i18n import S_
from routing.model import Role, VolunteerId
from routing.pseudonyms import Pseudonymiser
from routing.roster import Roster, StaffMember
from routing.rota.words import say

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY

_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class RotaError(ValueError):
    """One or more problems with a rota or a change to it, each a sentence a coordinator understands.

    Nothing is changed when this is raised. `problems` lists every problem found; `str()` joins them.
    """

    def __init__(self, *problems: str) -> None:
        super().__init__("; ".join(problems))
        self.problems: tuple[str, ...] = problems


class Weekday(enum.IntEnum):
    """A day of the week, Monday first (as `date.weekday()`)."""

    MON = 0
    TUE = 1
    WED = 2
    THU = 3
    FRI = 4
    SAT = 5
    SUN = 6

    @property
    def label(self) -> str:
        """The short name used in the file and in commands: "mon"."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Weekday:
        """Parse "mon", "Monday", "tues", ...; raises RotaError listing the accepted names."""
        word = text.strip().lower()
        for day in cls:
            full = _FULL_NAMES[day]
            if len(word) >= 3 and full.startswith(word):
                return day
        raise RotaError(
            say(S_("{text!r} is not a day of the week; use mon, tue, wed, thu, fri, sat or sun"), text=text)
        )


_FULL_NAMES = {
    Weekday.MON: "monday", Weekday.TUE: "tuesday", Weekday.WED: "wednesday", Weekday.THU: "thursday",
    Weekday.FRI: "friday", Weekday.SAT: "saturday", Weekday.SUN: "sunday",
}  # fmt: skip


def format_minute(minute: int) -> str:
    """Minutes after midnight as "HH:MM"; 1440 is "24:00" (the midnight that ends a day)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_clock(text: str, *, as_end: bool = False) -> int:
    """Parse "HH:MM" into minutes after midnight; "24:00" only when `as_end`. Raises RotaError."""
    found = _TIME.fullmatch(text.strip())
    if found is None:
        raise RotaError(say(S_("{text!r} is not a time; write it as HH:MM, for example 09:00 or 17:30"), text=text))
    hours, minutes = int(found.group(1)), int(found.group(2))
    if minutes > 59:
        raise RotaError(say(S_("{text!r} is not a time: minutes go from 00 to 59"), text=text))
    if hours == 24 and minutes == 0:
        if as_end:
            return MINUTES_PER_DAY
        raise RotaError(
            say(S_("{text!r} can only end a time range; a range starting at midnight starts at 00:00"), text=text)
        )
    if hours > 23:
        raise RotaError(say(S_("{text!r} is not a time: hours go from 00 to 23 (24:00 may end a range)"), text=text))
    return hours * 60 + minutes


def parse_date(text: str) -> date:
    """Parse "YYYY-MM-DD"; raises RotaError with an example."""
    cleaned = text.strip()
    if _DATE.fullmatch(cleaned):
        try:
            return date.fromisoformat(cleaned)
        except ValueError:
            pass
    raise RotaError(say(S_("{text!r} is not a date; write it as YYYY-MM-DD, for example 2025-03-30"), text=text))


@dataclass(frozen=True, slots=True, order=True)
class TimeRange:
    """A stretch of the wall clock on one day: `start` in 0..1439, `end` in 1..1440 minutes after midnight.

    `end < start` means the range crosses midnight into the next day ("22:00-02:00"). An end written as
    "00:00" is kept as 1440, so each range has one form. A range is never empty and at most 24 hours.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < MINUTES_PER_DAY or not 0 < self.end <= MINUTES_PER_DAY:
            raise RotaError(say(S_("time range {start}-{end} is outside the day"), start=self.start, end=self.end))
        if self.start == self.end:
            raise RotaError(
                say(S_("{time} starts and ends at the same time; a whole day is 00:00-24:00"), time=self.label)
            )

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        """Parse "HH:MM-HH:MM" (an en dash works too); raises RotaError naming what is wrong."""
        start_text, dash, end_text = text.strip().replace("–", "-").partition("-")
        if not dash or not start_text or not end_text:
            raise RotaError(
                say(S_("{text!r} is not a time range; write it as HH:MM-HH:MM, for example 09:00-17:00"), text=text)
            )
        start = parse_clock(start_text)
        end = parse_clock(end_text, as_end=True)
        if end == start:
            raise RotaError(
                say(
                    S_(
                        "{text!r} starts and ends at the same time; the end must differ from the start "
                        "(a whole day is 00:00-24:00)"
                    ),
                    text=text.strip(),
                )
            )
        return cls(start, end or MINUTES_PER_DAY)

    @property
    def minutes(self) -> int:
        """Length on the wall clock (DST changes aside)."""
        return self.end - self.start if self.end > self.start else self.end + MINUTES_PER_DAY - self.start

    @property
    def crosses_midnight(self) -> bool:
        return self.end < self.start

    @property
    def label(self) -> str:
        return f"{format_minute(self.start)}-{format_minute(self.end)}"


@dataclass(frozen=True, slots=True)
class Shift:
    """A weekly recurring shift: `volunteer` is on shift every `day` during `time` (local wall clock)."""

    volunteer: VolunteerId
    day: Weekday
    time: TimeRange

    @property
    def label(self) -> str:
        return f"{self.volunteer} {self.day.label} {self.time.label}"


@dataclass(frozen=True, slots=True)
class Cover:
    """A one-off shift on a date (starting that date; it may run past midnight)."""

    volunteer: VolunteerId
    day: date
    time: TimeRange

    @property
    def label(self) -> str:
        return f"{self.volunteer} {self.day.isoformat()} {self.time.label}"


@dataclass(frozen=True, slots=True)
class Absence:
    """Whole local days, `first` to `last` inclusive, when someone is not on shift or on call."""

    volunteer: VolunteerId
    first: date
    last: date

    @property
    def label(self) -> str:
        days = self.first.isoformat()
        if self.last != self.first:
            days += f"..{self.last.isoformat()}"
        return f"{self.volunteer} {days}"

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last

    @property
    def end(self) -> date:
        """The first day after the absence."""
        return self.last + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class OnCallBlock:
    """A weekly recurring on-call block: a professional (and a backup) reachable every `day` during `time`."""

    professional: VolunteerId
    day: Weekday
    time: TimeRange
    backup: VolunteerId | None = None

    @property
    def label(self) -> str:
        backup = f" (backup {self.backup})" if self.backup else ""
        return f"{self.day.label} {self.time.label} {self.professional}{backup}"


def check_timezone(name: str) -> ZoneInfo:
    """The zone named `name` (IANA, e.g. "Europe/London"); raises RotaError if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise RotaError(
            say(
                S_("{name!r} is not a known timezone; use an IANA name such as Europe/London or America/New_York"),
                name=name,
            )
        ) from None


@dataclass(frozen=True, slots=True)
class Rota:
    """Who is on shift and on call, when. Build one with `parse_rota` or change one with `apply_change`.

    Shifts, cover, absences and on-call blocks are kept sorted, so two rotas with the same entries are equal
    and the written file is stable. Staff keep their order. Construction checks only the timezone; the
    rules between entries (overlaps, unknown people, roles) are `routing.rota.validate.validate`.
    """

    timezone: str
    staff: tuple[StaffMember, ...] = ()
    shifts: tuple[Shift, ...] = ()
    covers: tuple[Cover, ...] = ()
    absences: tuple[Absence, ...] = ()
    oncall: tuple[OnCallBlock, ...] = ()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", check_timezone(self.timezone))
        object.__setattr__(self, "staff", tuple(self.staff))
        object.__setattr__(self, "shifts", tuple(sorted(self.shifts, key=_shift_key)))
        object.__setattr__(self, "covers", tuple(sorted(self.covers, key=_cover_key)))
        object.__setattr__(self, "absences", tuple(sorted(self.absences, key=_absence_key)))
        object.__setattr__(self, "oncall", tuple(sorted(self.oncall, key=_oncall_key)))

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def member(self, volunteer: VolunteerId) -> StaffMember | None:
        for m in self.staff:
            if m.id == volunteer:
                return m
        return None

    def resolve(self, reference: str) -> StaffMember | None:
        """Find someone by id, or case-insensitively by id or name, as typed in a command."""
        ref = reference.strip().lstrip("@")
        exact = self.member(VolunteerId(ref))
        if exact is not None:
            return exact
        folded = ref.casefold()
        for m in self.staff:
            if m.id.casefold() == folded or m.name.casefold() == folded:
                return m
        return None

    def with_role(self, role: Role) -> list[StaffMember]:
        return [m for m in self.staff if m.has(role)]

    def shifts_of(self, volunteer: VolunteerId) -> list[Shift]:
        return [s for s in self.shifts if s.volunteer == volunteer]


def _shift_key(s: Shift) -> tuple[int, int, int, str]:
    return (s.day, s.time.start, s.time.end, s.volunteer)


def _cover_key(c: Cover) -> tuple[date, int, int, str]:
    return (c.day, c.time.start, c.time.end, c.volunteer)


def _absence_key(a: Absence) -> tuple[date, date, str]:
    return (a.first, a.last, a.volunteer)


def _oncall_key(b: OnCallBlock) -> tuple[int, int, int, str, str]:
    return (b.day, b.time.start, b.time.end, b.professional, b.backup or "")


def roster_of(rota: Rota, pseudonyms: Pseudonymiser) -> Roster:
    """The staff of the live rota as the `Roster` the router looks people up in."""
    return Roster(list(rota.staff), pseudonyms)


def can_change_rota(member: StaffMember) -> bool:
    """Only coordinators may change the rota; everyone on the staff side may look at it."""
    return member.has(Role.COORDINATOR)
