"""The rules a rota keeps, each broken rule a sentence a coordinator can act on (pure).

Overlaps are judged on the wall clock (a Monday 22:00-02:00 shift overlaps a Tuesday 01:00-05:00 one),
which is how coordinators read the rota; DST does not change whether two entries overlap.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from routing.i18n import S_
from routing.model import Role, VolunteerId
from routing.roster import MAX_CONCURRENT_LIMIT, MAX_WEEKLY_HOURS
from routing.rota.model import MINUTES_PER_DAY, MINUTES_PER_WEEK, Cover, OnCallBlock, Rota, RotaError, Shift, TimeRange
from routing.rota.words import say

Interval = tuple[int, int]  # [start, end) in minutes


def week_interval(day: int, time: TimeRange) -> Interval:
    """Minutes after Monday 00:00 (the end may pass the end of the week)."""
    start = day * MINUTES_PER_DAY + time.start
    return start, start + time.minutes


def date_interval(day: date, time: TimeRange) -> Interval:
    """Minutes after local midnight of 0001-01-01 (a wall-clock timeline without DST)."""
    start = day.toordinal() * MINUTES_PER_DAY + time.start
    return start, start + time.minutes


def weekly_overlap(a: Interval, b: Interval) -> bool:
    """Do two weekly intervals overlap, allowing for Sunday night running into Monday?"""
    return any(a[0] < b[1] + shift and b[0] + shift < a[1] for shift in (-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK))


def overlaps(a: Interval, b: Interval) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def validate(rota: Rota) -> list[str]:
    """Every problem with `rota`, in entry order; empty if it is sound."""
    return [
        *_staff_problems(rota),
        *_people_problems(rota),
        *_shift_overlaps(rota.shifts),
        *_cover_problems(rota),
        *_absence_problems(rota),
        *_oncall_problems(rota),
    ]


def check(rota: Rota) -> Rota:
    """`rota` if it is sound, else RotaError listing every problem."""
    problems = validate(rota)
    if problems:
        raise RotaError(*problems)
    return rota


def unknown_volunteer(rota: Rota, volunteer: str) -> str:
    """The message for a name nobody on the roster has."""
    known = ", ".join(m.id for m in rota.staff) or say(S_("nobody yet"))
    return say(
        S_("there is no {volunteer!r} on the roster (known: {known}); add them with /volunteer add"),
        volunteer=volunteer,
        known=known,
    )


def _staff_problems(rota: Rota) -> Iterable[str]:
    seen: set[VolunteerId] = set()
    for m in rota.staff:
        if m.id in seen:
            yield say(S_("staff entry {volunteer!r} appears twice"), volunteer=m.id)
        seen.add(m.id)
        if not 0 <= m.max_concurrent <= MAX_CONCURRENT_LIMIT:
            yield say(S_("{volunteer}: capacity must be a whole number from 0 to {limit}"), volunteer=m.id,
                      limit=MAX_CONCURRENT_LIMIT)  # fmt: skip
        if m.weekly_hours is not None and not 0 <= m.weekly_hours <= MAX_WEEKLY_HOURS:
            yield say(S_("{volunteer}: weekly_hours must be a number of hours from 0 to {limit}"), volunteer=m.id,
                      limit=MAX_WEEKLY_HOURS)  # fmt: skip


def _people_problems(rota: Rota) -> Iterable[str]:
    known = {m.id for m in rota.staff}
    entries: list[tuple[str, VolunteerId]] = [
        *((say(S_("shift {shift}"), shift=s.label), s.volunteer) for s in rota.shifts),
        *((say(S_("cover {cover}"), cover=c.label), c.volunteer) for c in rota.covers),
        *((say(S_("absence {absence}"), absence=a.label), a.volunteer) for a in rota.absences),
        *((say(S_("on-call {block}"), block=b.label), b.professional) for b in rota.oncall),
        *((say(S_("on-call {block}"), block=b.label), b.backup) for b in rota.oncall if b.backup is not None),
    ]
    for where, person in entries:
        if person not in known:
            yield say(S_("{entry}: {problem}"), entry=where, problem=unknown_volunteer(rota, person))


def _shift_overlaps(shifts: tuple[Shift, ...]) -> Iterable[str]:
    for i, shift in enumerate(shifts):
        yield from shift_clashes(shift, shifts[:i])


def shift_clashes(shift: Shift, others: Iterable[Shift]) -> Iterable[str]:
    """Why `shift` cannot sit beside `others`: the same person's overlapping shifts."""
    mine = week_interval(shift.day, shift.time)
    for other in others:
        if other.volunteer == shift.volunteer and weekly_overlap(mine, week_interval(other.day, other.time)):
            yield say(
                S_(
                    "shift {shift} overlaps {volunteer}'s shift {day} {time}; "
                    "one person cannot be on two shifts at once"
                ),
                shift=shift.label,
                volunteer=shift.volunteer,
                day=other.day.label,
                time=other.time.label,
            )


def shift_intervals_near(shifts: Iterable[Shift], day: date) -> list[tuple[Shift, Interval]]:
    """Weekly shifts as dated wall-clock intervals on `day` and the days either side."""
    found = []
    for offset in (-1, 0, 1):
        on = date.fromordinal(day.toordinal() + offset)
        found += [(s, date_interval(on, s.time)) for s in shifts if s.day == on.weekday()]
    return found


def _cover_problems(rota: Rota) -> Iterable[str]:
    for i, cover in enumerate(rota.covers):
        yield from cover_clashes(rota, cover, rota.covers[:i])


def cover_clashes(rota: Rota, cover: Cover, others: Iterable[Cover]) -> Iterable[str]:
    """Why `cover` cannot sit beside `others` and the rota's shifts and absences."""
    mine = date_interval(cover.day, cover.time)
    for other in others:
        if other.volunteer == cover.volunteer and overlaps(mine, date_interval(other.day, other.time)):
            yield say(
                S_("cover {cover} overlaps {volunteer}'s cover {day} {time}"),
                cover=cover.label,
                volunteer=cover.volunteer,
                day=other.day,
                time=other.time.label,
            )
    for shift, interval in shift_intervals_near(rota.shifts_of(cover.volunteer), cover.day):
        if overlaps(mine, interval):
            yield say(
                S_("cover {cover}: {volunteer} is already on shift then ({day} {time})"),
                cover=cover.label,
                volunteer=cover.volunteer,
                day=shift.day.label,
                time=shift.time.label,
            )
    for absence in rota.absences:
        away = (absence.first.toordinal() * MINUTES_PER_DAY, absence.end.toordinal() * MINUTES_PER_DAY)
        if absence.volunteer == cover.volunteer and overlaps(mine, away):
            yield say(
                S_("cover {cover}: {volunteer} is absent then (absence {absence})"),
                cover=cover.label,
                volunteer=cover.volunteer,
                absence=absence.label,
            )


def _absence_problems(rota: Rota) -> Iterable[str]:
    for i, absence in enumerate(rota.absences):
        if absence.last < absence.first:
            yield say(S_("absence {absence}: the last day is before the first"), absence=absence.label)
        for other in rota.absences[:i]:
            same = other.volunteer == absence.volunteer
            if same and absence.first <= other.last and other.first <= absence.last:
                yield say(
                    S_("absence {absence} overlaps {volunteer}'s absence {other}"),
                    absence=absence.label,
                    volunteer=absence.volunteer,
                    other=other.label,
                )


def _oncall_problems(rota: Rota) -> Iterable[str]:
    earlier: list[OnCallBlock] = []
    for block in rota.oncall:
        yield from _oncall_people(rota, block)
        mine = week_interval(block.day, block.time)
        for other in earlier:
            if weekly_overlap(mine, week_interval(other.day, other.time)):
                yield say(
                    S_(
                        "on-call {block} overlaps on-call {other}; "
                        "each hour has one on-call professional and one backup"
                    ),
                    block=block.label,
                    other=other.label,
                )
        earlier.append(block)


def _oncall_people(rota: Rota, block: OnCallBlock) -> Iterable[str]:
    roles = (
        (block.professional, S_("on-call {block}: {person} cannot be the on-call professional because they do not "
                                "have the professional role")),
        (block.backup, S_("on-call {block}: {person} cannot be the on-call backup because they do not have the "
                          "professional role")),
    )  # fmt: skip
    for person, problem in roles:
        member = rota.member(person) if person is not None else None
        if member is not None and not member.has(Role.PROFESSIONAL):
            yield say(problem, block=block.label, person=person)
    if block.backup is not None and block.backup == block.professional:
        yield say(
            S_("on-call {block}: the backup must be someone other than {professional}"),
            block=block.label,
            professional=block.professional,
        )
