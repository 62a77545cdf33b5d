"""Typed edits to a rota and `apply_change`, which makes a new rota or says precisely why not (pure).

A change names people as typed by a coordinator ("Ana", "@ana"); `apply_change` resolves them against the
roster and stores the canonical id. Only problems the change itself introduces are reported, so a rota that
an older release let through can still be edited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from routing.i18n import NP_, S_
from routing.model import Role, VolunteerId
from routing.roster import MAX_CONCURRENT_LIMIT, StaffMember
from routing.rota.model import (
    MINUTES_PER_DAY,
    MINUTES_PER_WEEK,
    Absence,
    Cover,
    OnCallBlock,
    Rota,
    RotaError,
    Shift,
    TimeRange,
    Weekday,
)
from routing.rota.validate import (
    Interval,
    cover_clashes,
    shift_clashes,
    unknown_volunteer,
    validate,
    week_interval,
)
from routing.rota.words import say, say_count


@dataclass(frozen=True, slots=True)
class AddShift:
    shift: Shift


@dataclass(frozen=True, slots=True)
class RemoveShift:
    shift: Shift


@dataclass(frozen=True, slots=True)
class AddCover:
    cover: Cover


@dataclass(frozen=True, slots=True)
class RemoveCover:
    cover: Cover


@dataclass(frozen=True, slots=True)
class AddAbsence:
    absence: Absence


@dataclass(frozen=True, slots=True)
class RemoveAbsence:
    absence: Absence


@dataclass(frozen=True, slots=True)
class SetCapacity:
    volunteer: VolunteerId
    capacity: int


@dataclass(frozen=True, slots=True)
class SetOnCall:
    """Put `block` in place; the parts of other blocks it overlaps are replaced, the rest stays."""

    block: OnCallBlock


@dataclass(frozen=True, slots=True)
class AddVolunteer:
    volunteer: VolunteerId
    name: str


@dataclass(frozen=True, slots=True)
class RemoveVolunteer:
    """Remove someone with their shifts, cover and absences (refused while they hold on-call blocks)."""

    volunteer: VolunteerId


RotaChange = (
    AddShift | RemoveShift | AddCover | RemoveCover | AddAbsence | RemoveAbsence | SetCapacity | SetOnCall
    | AddVolunteer | RemoveVolunteer
)  # fmt: skip


def apply_change(rota: Rota, change: RotaChange) -> Rota:
    """The rota after `change`; raises RotaError (and changes nothing) if the change is not possible."""
    changed = _apply(rota, change)
    before = set(validate(rota))
    new_problems = [p for p in validate(changed) if p not in before]
    if new_problems:
        raise RotaError(*new_problems)
    return changed


def _apply(rota: Rota, change: RotaChange) -> Rota:
    match change:
        case AddShift(shift):
            return _add_shift(rota, replace(shift, volunteer=_resolve(rota, shift.volunteer)))
        case RemoveShift(shift):
            return _remove_shift(rota, replace(shift, volunteer=_resolve(rota, shift.volunteer)))
        case AddCover(cover):
            cover = replace(cover, volunteer=_resolve(rota, cover.volunteer))
            _refuse_if(cover in rota.covers, say(S_("{cover} is already in the rota"), cover=cover.label))
            _refuse_all(cover_clashes(rota, cover, rota.covers))
            return replace(rota, covers=(*rota.covers, cover))
        case RemoveCover(cover):
            cover = replace(cover, volunteer=_resolve(rota, cover.volunteer))
            _refuse_if(cover not in rota.covers, say(S_("there is no cover {cover} to remove"), cover=cover.label))
            return replace(rota, covers=tuple(c for c in rota.covers if c != cover))
        case AddAbsence(absence):
            absence = replace(absence, volunteer=_resolve(rota, absence.volunteer))
            return replace(rota, absences=(*rota.absences, absence))
        case RemoveAbsence(absence):
            absence = replace(absence, volunteer=_resolve(rota, absence.volunteer))
            missing = say(S_("there is no absence {absence} to remove"), absence=absence.label)
            _refuse_if(absence not in rota.absences, missing)
            return replace(rota, absences=tuple(a for a in rota.absences if a != absence))
        case SetCapacity(volunteer, capacity):
            return _set_capacity(rota, _resolve(rota, volunteer), capacity)
        case SetOnCall(block):
            return _set_oncall(rota, block)
        case AddVolunteer(volunteer, name):
            return _add_volunteer(rota, volunteer, name)
        case RemoveVolunteer(volunteer):
            return _remove_volunteer(rota, _resolve(rota, volunteer))


def _refuse_if(condition: bool, message: str) -> None:
    if condition:
        raise RotaError(message)


def _refuse_all(problems: Iterable[str]) -> None:
    found = list(problems)
    if found:
        raise RotaError(*found)


def _resolve(rota: Rota, reference: str) -> VolunteerId:
    member = rota.resolve(reference)
    if member is None:
        raise RotaError(unknown_volunteer(rota, reference))
    return member.id


def _add_shift(rota: Rota, shift: Shift) -> Rota:
    _refuse_if(
        shift in rota.shifts,
        say(
            S_("{volunteer} already has the shift {day} {time}"),
            volunteer=shift.volunteer,
            day=shift.day.label,
            time=shift.time.label,
        ),
    )
    _refuse_all(shift_clashes(shift, rota.shifts))
    return replace(rota, shifts=(*rota.shifts, shift))


def _remove_shift(rota: Rota, shift: Shift) -> Rota:
    if shift not in rota.shifts:
        theirs = ", ".join(f"{s.day.label} {s.time.label}" for s in rota.shifts_of(shift.volunteer)) or say(S_("none"))
        raise RotaError(
            say(
                S_("{volunteer} has no shift {day} {time} (their shifts: {shifts})"),
                volunteer=shift.volunteer,
                day=shift.day.label,
                time=shift.time.label,
                shifts=theirs,
            )
        )
    return replace(rota, shifts=tuple(s for s in rota.shifts if s != shift))


def _set_capacity(rota: Rota, volunteer: VolunteerId, capacity: int) -> Rota:
    _refuse_if(
        not 0 <= capacity <= MAX_CONCURRENT_LIMIT,
        say(
            S_("capacity must be a whole number from 0 to {limit} (got {capacity})"),
            limit=MAX_CONCURRENT_LIMIT,
            capacity=capacity,
        ),
    )
    staff = tuple(replace(m, max_concurrent=capacity) if m.id == volunteer else m for m in rota.staff)
    return replace(rota, staff=staff)


def _add_volunteer(rota: Rota, volunteer: VolunteerId, name: str) -> Rota:
    existing = rota.member(volunteer) or rota.resolve(volunteer)
    _refuse_if(existing is not None, say(S_("{volunteer!r} is already on the roster"), volunteer=volunteer))
    return replace(rota, staff=(*rota.staff, StaffMember(id=volunteer, name=name or volunteer)))


def _remove_volunteer(rota: Rota, volunteer: VolunteerId) -> Rota:
    blocks = [b.label for b in rota.oncall if volunteer in (b.professional, b.backup)]
    if blocks:
        raise RotaError(
            say_count(
                # English keeps "block(s)" in both forms (the text coordinators already know); the catalogues
                # give each language its own singular and plural.
                NP_(
                    "{volunteer} is on call in {n} block(s) ({blocks}); give those to someone else with /oncall set "
                    "first",
                    "{volunteer} is on call in {n} block(s) ({blocks}); give those to someone else with /oncall set "
                    "first",
                ),
                len(blocks),
                volunteer=volunteer,
                blocks=", ".join(blocks[:3]),
            )
        )
    coordinators = [m.id for m in rota.with_role(Role.COORDINATOR)]
    _refuse_if(
        coordinators == [volunteer],
        say(
            S_("{volunteer} is the only coordinator; give someone else the coordinator role in the rota file first"),
            volunteer=volunteer,
        ),
    )
    return replace(
        rota,
        staff=tuple(m for m in rota.staff if m.id != volunteer),
        shifts=tuple(s for s in rota.shifts if s.volunteer != volunteer),
        covers=tuple(c for c in rota.covers if c.volunteer != volunteer),
        absences=tuple(a for a in rota.absences if a.volunteer != volunteer),
    )


def _set_oncall(rota: Rota, block: OnCallBlock) -> Rota:
    backup = _resolve(rota, block.backup) if block.backup is not None else None
    block = replace(block, professional=_resolve(rota, block.professional), backup=backup)
    for person in (block.professional, block.backup):
        member = rota.member(person) if person is not None else None
        if member is not None and not member.has(Role.PROFESSIONAL):
            professionals = ", ".join(m.id for m in rota.with_role(Role.PROFESSIONAL)) or say(S_("none"))
            raise RotaError(
                say(
                    S_("{volunteer} cannot be on call: on-call slots need the professional role (professionals: "
                       "{professionals})"),
                    volunteer=member.id,
                    professionals=professionals,
                )
            )  # fmt: skip
    hole = week_interval(block.day, block.time)
    kept = [piece for other in rota.oncall for piece in _carve(other, hole)]
    return replace(rota, oncall=(*kept, block))


def _carve(block: OnCallBlock, hole: Interval) -> list[OnCallBlock]:
    """What is left of a weekly block once `hole` (and its copies a week either side) is taken out."""
    pieces = [week_interval(block.day, block.time)]
    for shift in (-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK):
        h0, h1 = hole[0] + shift, hole[1] + shift
        pieces = [
            part
            for a, b in pieces
            for part in (((a, b),) if h1 <= a or b <= h0 else ((a, min(b, h0)), (max(a, h1), b)))
            if part[0] < part[1]
        ]
    return [replace(block, day=Weekday((a // MINUTES_PER_DAY) % 7), time=_range_of(a, b)) for a, b in pieces]


def _range_of(start: int, end: int) -> TimeRange:
    begin = start % MINUTES_PER_DAY
    finish = begin + (end - start)
    return TimeRange(begin, finish if finish <= MINUTES_PER_DAY else finish - MINUTES_PER_DAY)


def describe_change(change: RotaChange) -> str:
    """A one-line confirmation for the coordinator (canonical ids are in the new rota)."""
    match change:
        case AddShift(s):
            return say(S_("Added the weekly shift {shift}."), shift=s.label)
        case RemoveShift(s):
            return say(S_("Removed the weekly shift {shift}."), shift=s.label)
        case AddCover(c):
            return say(S_("Added cover {cover}."), cover=c.label)
        case RemoveCover(c):
            return say(S_("Removed cover {cover}."), cover=c.label)
        case AddAbsence(a):
            return say(S_("Recorded the absence {absence}."), absence=a.label)
        case RemoveAbsence(a):
            return say(S_("Removed the absence {absence}."), absence=a.label)
        case SetCapacity(v, n):
            # English keeps "conversation(s)" in both forms, as it always said; the catalogues have real plurals.
            forms = NP_("{volunteer} now takes up to {n} conversation(s) at once.",
                        "{volunteer} now takes up to {n} conversation(s) at once.")  # fmt: skip
            return say_count(forms, n, volunteer=v)
        case SetOnCall(b):
            return say(S_("On call {block}."), block=b.label)
        case AddVolunteer(v, name):
            return say(S_("Added {name} ({volunteer}) to the roster."), name=name or v, volunteer=v)
        case RemoveVolunteer(v):
            return say(S_("Removed {volunteer} from the roster, with their shifts, cover and absences."), volunteer=v)


def change_kind(change: RotaChange) -> str:
    """A short content-free name for the audit stream ("shift_add")."""
    return _KINDS[type(change)]


_KINDS: dict[type, str] = {
    AddShift: "shift_add", RemoveShift: "shift_remove", AddCover: "cover_add", RemoveCover: "cover_remove",
    AddAbsence: "absence_add", RemoveAbsence: "absence_remove", SetCapacity: "capacity", SetOnCall: "oncall_set",
    AddVolunteer: "volunteer_add", RemoveVolunteer: "volunteer_remove",
}  # fmt: skip
