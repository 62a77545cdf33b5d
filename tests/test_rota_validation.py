"""Every rule a rota keeps, and every way a change is refused: a precise message, and nothing changed."""

from __future__ import annotations

import re
import tomllib
from datetime import date

import pytest

from routing.model import Role, VolunteerId
from routing.rota import Absence, Cover, OnCallBlock, Rota, RotaError, Shift, TimeRange, Weekday, parse_rota
from routing.rota.changes import (
    AddAbsence,
    AddCover,
    AddShift,
    AddVolunteer,
    RemoveAbsence,
    RemoveCover,
    RemoveShift,
    RemoveVolunteer,
    RotaChange,
    SetCapacity,
    SetOnCall,
    apply_change,
    describe_change,
)

BASE = """
timezone = "Europe/London"
[[staff]]
id = "ana"
name = "Ana"
[[staff]]
id = "ben"
[[staff]]
id = "sam"
roles = ["coordinator"]
[[staff]]
id = "lee"
roles = ["professional"]
[[staff]]
id = "kim"
roles = ["professional"]
[[shift]]
volunteer = "ana"
day = "mon"
time = "09:00-17:00"
[[shift]]
volunteer = "ben"
day = "sun"
time = "22:00-02:00"
[[oncall]]
professional = "lee"
backup = "kim"
day = "mon"
time = "00:00-24:00"
"""
ANA, BEN, LEE, KIM, SAM = (VolunteerId(v) for v in ("ana", "ben", "lee", "kim", "sam"))
T = TimeRange.parse


def base() -> Rota:
    return parse_rota(tomllib.loads(BASE))


def refused(change: RotaChange, *fragments: str) -> None:
    rota = base()
    with pytest.raises(RotaError) as caught:
        apply_change(rota, change)
    for fragment in fragments:
        assert fragment in str(caught.value)
    assert rota == base()  # frozen: the rota it was applied to is untouched


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("25:00-26:00", "'25:00' is not a time: hours go from 00 to 23"),
        ("12:60-13:00", "'12:60' is not a time: minutes go from 00 to 59"),
        ("09:00-09:00", "starts and ends at the same time"),
        ("00:00-00:00", "starts and ends at the same time"),
        ("9-17", "'9' is not a time"),
        ("09:00", "is not a time range"),
        ("24:00-02:00", "can only end a time range"),
        ("10:00-24:30", "hours go from 00 to 23"),
        ("١٠:٠٠-١٢:٠٠", "is not a time"),  # Arabic-Indic digits are not accepted as a time
    ],
)
def test_bad_time_ranges_are_named(text: str, message: str) -> None:
    with pytest.raises(RotaError, match=message):
        TimeRange.parse(text)


def test_time_ranges_crossing_midnight_and_ending_at_midnight() -> None:
    assert T("22:00-02:00").crosses_midnight and T("22:00-02:00").minutes == 240
    assert T("22:00-00:00") == T("22:00-24:00")
    assert T("00:00-24:00").minutes == 24 * 60
    assert T("9:05–10:00").label == "09:05-10:00"  # an en dash and a one-digit hour are fine


@pytest.mark.parametrize("text", ["mon", "Monday", "TUES", "thu", "sun"])
def test_weekday_names(text: str) -> None:
    assert Weekday.parse(text).label == text.lower()[:3]


@pytest.mark.parametrize("text", ["mo", "mnday", "8", "", "someday"])
def test_bad_weekdays_are_named(text: str) -> None:
    with pytest.raises(RotaError, match="is not a day of the week; use mon, tue"):
        Weekday.parse(text)


def test_unknown_volunteer() -> None:
    refused(
        AddShift(Shift(VolunteerId("anna"), Weekday.TUE, T("09:00-17:00"))),
        "there is no 'anna' on the roster (known: ana, ben, sam, lee, kim)",
    )


def test_a_volunteer_may_be_named_by_name_in_any_case() -> None:
    changed = apply_change(base(), AddShift(Shift(VolunteerId("ANA"), Weekday.TUE, T("09:00-17:00"))))
    assert Shift(ANA, Weekday.TUE, T("09:00-17:00")) in changed.shifts


def test_overlapping_shift_for_the_same_volunteer() -> None:
    refused(
        AddShift(Shift(ANA, Weekday.MON, T("16:00-20:00"))),
        "shift ana mon 16:00-20:00 overlaps ana's shift mon 09:00-17:00",
    )


def test_overlap_across_the_end_of_the_week() -> None:
    refused(AddShift(Shift(BEN, Weekday.MON, T("01:00-05:00"))), "overlaps ben's shift sun 22:00-02:00")


def test_touching_shifts_and_other_peoples_shifts_are_fine() -> None:
    rota = apply_change(base(), AddShift(Shift(ANA, Weekday.MON, T("17:00-20:00"))))
    rota = apply_change(rota, AddShift(Shift(BEN, Weekday.MON, T("09:00-17:00"))))
    assert len(rota.shifts) == 4


def test_the_same_shift_twice() -> None:
    refused(AddShift(Shift(ANA, Weekday.MON, T("09:00-17:00"))), "ana already has the shift mon 09:00-17:00")


def test_removing_a_shift_that_is_not_there_lists_theirs() -> None:
    refused(
        RemoveShift(Shift(ANA, Weekday.TUE, T("09:00-17:00"))),
        "ana has no shift tue 09:00-17:00 (their shifts: mon 09:00-17:00)",
    )
    removed = apply_change(base(), RemoveShift(Shift(ANA, Weekday.MON, T("09:00-17:00"))))
    assert removed.shifts_of(ANA) == []


def test_cover_overlapping_own_shift_or_absence_is_refused() -> None:
    refused(
        AddCover(Cover(ANA, date(2025, 6, 2), T("16:00-18:00"))),
        "cover ana 2025-06-02 16:00-18:00: ana is already on shift then (mon 09:00-17:00)",
    )
    refused(
        AddCover(Cover(BEN, date(2025, 6, 2), T("01:00-03:00"))),  # Sunday night's shift runs into Monday
        "ben is already on shift then (sun 22:00-02:00)",
    )
    away = apply_change(base(), AddAbsence(Absence(ANA, date(2025, 6, 3), date(2025, 6, 5))))
    with pytest.raises(RotaError, match=r"ana is absent then \(absence ana 2025-06-03..2025-06-05\)"):
        apply_change(away, AddCover(Cover(ANA, date(2025, 6, 4), T("09:00-12:00"))))


def test_cover_twice_and_removing_cover() -> None:
    cover = Cover(ANA, date(2025, 6, 3), T("09:00-12:00"))
    rota = apply_change(base(), AddCover(cover))
    with pytest.raises(RotaError, match="already in the rota"):
        apply_change(rota, AddCover(cover))
    with pytest.raises(RotaError, match="overlaps ana's cover"):
        apply_change(rota, AddCover(Cover(ANA, date(2025, 6, 3), T("11:00-13:00"))))
    assert apply_change(rota, RemoveCover(cover)).covers == ()
    refused(RemoveCover(cover), "there is no cover ana 2025-06-03 09:00-12:00 to remove")


def test_overlapping_absences_and_removing_one() -> None:
    absence = Absence(ANA, date(2025, 6, 3), date(2025, 6, 5))
    rota = apply_change(base(), AddAbsence(absence))
    with pytest.raises(RotaError, match=re.escape("overlaps ana's absence ana 2025-06-03..2025-06-05")):
        apply_change(rota, AddAbsence(Absence(ANA, date(2025, 6, 5), date(2025, 6, 5))))
    assert apply_change(rota, RemoveAbsence(absence)).absences == ()
    refused(RemoveAbsence(absence), "there is no absence")


@pytest.mark.parametrize("capacity", [-1, 21, 100])
def test_capacity_out_of_range(capacity: int) -> None:
    refused(SetCapacity(ANA, capacity), "capacity must be a whole number from 0 to 20")


def test_capacity_changes_only_that_person() -> None:
    rota = apply_change(base(), SetCapacity(VolunteerId("Ana"), 1))
    assert [m.max_concurrent for m in rota.staff] == [1, 3, 3, 3, 3]


def test_on_call_needs_the_professional_role() -> None:
    refused(
        SetOnCall(OnCallBlock(ANA, Weekday.TUE, T("00:00-24:00"), KIM)),
        "ana cannot be on call: on-call slots need the professional role (professionals: lee, kim)",
    )
    refused(SetOnCall(OnCallBlock(LEE, Weekday.TUE, T("00:00-24:00"), BEN)), "ben cannot be on call")


def test_on_call_set_replaces_only_the_overlapped_part() -> None:
    rota = apply_change(base(), SetOnCall(OnCallBlock(KIM, Weekday.MON, T("09:00-17:00"), LEE)))
    assert [b.label for b in rota.oncall] == [
        "mon 00:00-09:00 lee (backup kim)",
        "mon 09:00-17:00 kim (backup lee)",
        "mon 17:00-24:00 lee (backup kim)",
    ]


def test_on_call_set_across_midnight_splits_the_blocks_either_side() -> None:
    rota = apply_change(base(), SetOnCall(OnCallBlock(LEE, Weekday.TUE, T("00:00-24:00"), KIM)))
    rota = apply_change(rota, SetOnCall(OnCallBlock(KIM, Weekday.MON, T("22:00-02:00"))))
    assert [b.label for b in rota.oncall] == [
        "mon 00:00-22:00 lee (backup kim)",
        "mon 22:00-02:00 kim",
        "tue 02:00-24:00 lee (backup kim)",
    ]


def test_on_call_backup_must_be_someone_else() -> None:
    refused(SetOnCall(OnCallBlock(LEE, Weekday.TUE, T("00:00-24:00"), LEE)), "the backup must be someone other")


def test_volunteer_add_and_remove() -> None:
    rota = apply_change(base(), AddVolunteer(VolunteerId("zoe"), "Zoë"))
    assert rota.member(VolunteerId("zoe")) is not None
    assert rota.staff[-1].name == "Zoë" and rota.staff[-1].roles == frozenset({Role.VOLUNTEER})
    refused(AddVolunteer(ANA, "Ana again"), "'ana' is already on the roster")
    gone = apply_change(base(), RemoveVolunteer(BEN))
    assert gone.member(BEN) is None and all(s.volunteer != BEN for s in gone.shifts)


def test_removing_someone_on_call_or_the_last_coordinator_is_refused() -> None:
    refused(RemoveVolunteer(LEE), "lee is on call in 1 block(s) (mon 00:00-24:00 lee (backup kim))")
    refused(RemoveVolunteer(SAM), "sam is the only coordinator")
    refused(RemoveVolunteer(VolunteerId("nobody")), "there is no 'nobody' on the roster")


FILE_PROBLEMS = [
    ('timezone = "Europe/Londn"\n', "'Europe/Londn' is not a known timezone"),
    ("[[staff]]\nid = 'x'\n", "timezone is missing"),
    ('timezone = "UTC"\n[[shift]]\nvolunteer = "x"\nday = "mon"\ntime = "09:00-10:00"\n', "there is no 'x'"),
    ('timezone = "UTC"\n[[staff]]\nid = "a"\nmax_concurrent = 99\n', "max_concurrent must be a whole number"),
    ('timezone = "UTC"\n[[staff]]\nid = "a"\nweekly_hours = 200\n', "weekly_hours must be a number of hours"),
    ('timezone = "UTC"\n[[cover]]\nvolunteer = "a"\ndate = "2025-02-30"\ntime = "09:00-10:00"\n', "not a date"),
    ('timezone = "UTC"\n[[shift]]\nvolunteer = "a"\nday = "funday"\ntime = "09:00-10:00"\n', "not a day"),
    ('timezone = "UTC"\n[[shift]]\nvolunter = "a"\n', "'volunter' is not a shift setting"),
    ('timezone = "UTC"\nshifts = []\n', "shifts is not a rota setting"),
    ('timezone = "UTC"\n[[absence]]\nvolunteer = "a"\nfrom = 2025-06-05\nuntil = 2025-06-01\n', "is before from"),
    (
        'timezone = "UTC"\n[[staff]]\nid = "a"\n[[oncall]]\nprofessional = "a"\nday = "mon"\ntime = "00:00-01:00"\n',
        "a cannot be the on-call professional because they do not have the professional role",
    ),
    (
        'timezone = "UTC"\n[[staff]]\nid = "p"\nroles = ["professional"]\n'
        '[[oncall]]\nprofessional = "p"\ndays = ["mon", "mon"]\ntime = "00:00-01:00"\n',
        "on-call mon 00:00-01:00 p overlaps on-call mon 00:00-01:00 p",
    ),
]


@pytest.mark.parametrize(("text", "message"), FILE_PROBLEMS)
def test_file_problems_name_the_entry(text: str, message: str) -> None:
    with pytest.raises(RotaError, match=re.escape(message)):
        parse_rota(tomllib.loads(text))


def test_every_problem_of_a_file_is_listed_at_once() -> None:
    text = (
        'timezone = "UTC"\n[[staff]]\nid = "a"\n'
        '[[shift]]\nvolunteer = "a"\nday = "mon"\ntime = "25:00-26:00"\n'
        '[[shift]]\nvolunteer = "b"\nday = "tue"\ntime = "09:00-10:00"\n'
    )
    with pytest.raises(RotaError) as caught:
        parse_rota(tomllib.loads(text))
    assert caught.value.problems == (
        "[[shift]] #1: '25:00' is not a time: hours go from 00 to 23 (24:00 may end a range)",
        "shift b tue 09:00-10:00: there is no 'b' on the roster (known: a); add them with /volunteer add",
    )


def test_describe_change_reads_like_a_confirmation() -> None:
    assert describe_change(AddShift(Shift(ANA, Weekday.TUE, T("09:00-17:00")))) == (
        "Added the weekly shift ana tue 09:00-17:00."
    )
    assert describe_change(SetCapacity(ANA, 2)) == "ana now takes up to 2 conversation(s) at once."
