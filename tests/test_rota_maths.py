"""Rota maths as pure functions: weekly recurrence across DST changes, overnight shifts, cover, absences,
on call, coverage gaps, and the questions the router asks."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.model import VolunteerId
from routing.rota import GapKind, OnCall, Rota, Shift, TimeRange, Weekday, on_call, on_shift, parse_rota
from routing.rota.clock import wall_to_instant
from routing.rota.maths import (
    Gap,
    ShiftEnding,
    coverage,
    hours_this_week,
    next_available,
    over_weekly_limit,
    shift_ending_soon,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
# Europe/London: clocks go forward 2025-03-30 01:00 GMT -> 02:00 BST, back 2025-10-26 02:00 BST -> 01:00 GMT.
# America/New_York: forward 2025-03-09 02:00 EST -> 03:00 EDT, back 2025-11-02 02:00 EDT -> 01:00 EST.
STAFF = """
[[staff]]
id = "ana"
weekly_hours = 10
[[staff]]
id = "ben"
[[staff]]
id = "lee"
roles = ["professional"]
[[staff]]
id = "kim"
roles = ["professional"]
"""


def make(timezone: str, entries: str) -> Rota:
    return parse_rota(tomllib.loads(f'timezone = "{timezone}"\n{STAFF}\n{entries}'))


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone, fold=fold)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


ANA = VolunteerId("ana")
BEN = VolunteerId("ben")
DAY_SHIFT = '[[shift]]\nvolunteer = "ana"\ndays = ["sun", "mon"]\ntime = "09:00-17:00"\n'


@pytest.mark.parametrize(
    ("timezone", "sunday"),
    [
        ("Europe/London", date(2025, 3, 30)),  # spring forward
        ("Europe/London", date(2025, 10, 26)),  # fall back
        ("America/New_York", date(2025, 3, 9)),
        ("America/New_York", date(2025, 11, 2)),
    ],
)
def test_a_day_shift_is_nine_to_five_local_on_both_sides_of_a_change(timezone: str, sunday: date) -> None:
    rota = make(timezone, DAY_SHIFT)
    zone = ZoneInfo(timezone)
    for day in (sunday - timedelta(days=7), sunday, sunday + timedelta(days=1), sunday + timedelta(days=7)):
        if day.weekday() not in (0, 6):
            continue
        start = datetime(day.year, day.month, day.day, 9, tzinfo=zone)
        assert on_shift(rota, start) == {ANA}
        assert on_shift(rota, start - timedelta(minutes=1)) == set()
        assert on_shift(rota, start + timedelta(hours=8) - timedelta(minutes=1)) == {ANA}
        assert on_shift(rota, start + timedelta(hours=8)) == set()  # 17:00: half-open, off shift


def test_the_answer_does_not_depend_on_the_zone_of_the_question() -> None:
    rota = make("Europe/London", DAY_SHIFT)
    assert on_shift(rota, utc(2025, 3, 31, 8, 0)) == {ANA}  # 09:00 BST
    assert on_shift(rota, utc(2025, 3, 31, 7, 59)) == set()
    assert on_shift(rota, local(NEW_YORK, 2025, 3, 31, 4, 0)) == {ANA}  # 04:00 EDT is 09:00 BST


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        on_shift(make("Europe/London", DAY_SHIFT), datetime(2025, 3, 31, 9))


def test_an_overnight_shift_crosses_midnight_and_the_end_of_the_week() -> None:
    rota = make("Europe/London", '[[shift]]\nvolunteer = "ben"\nday = "sun"\ntime = "22:00-02:00"\n')
    assert on_shift(rota, local(LONDON, 2025, 6, 1, 23, 0)) == {BEN}  # Sunday night
    assert on_shift(rota, local(LONDON, 2025, 6, 2, 1, 59)) == {BEN}  # Monday morning
    assert on_shift(rota, local(LONDON, 2025, 6, 2, 2, 0)) == set()
    assert on_shift(rota, local(LONDON, 2025, 6, 1, 1, 0)) == set()  # not the morning of the same Sunday


def test_an_overnight_shift_over_spring_forward_is_an_hour_shorter() -> None:
    rota = make("Europe/London", '[[shift]]\nvolunteer = "ben"\nday = "sat"\ntime = "22:00-06:00"\n')
    assert hours_this_week(rota, BEN, date(2025, 3, 24)) == 7  # Sat 29 Mar 22:00 GMT -> Sun 06:00 BST
    assert hours_this_week(rota, BEN, date(2025, 3, 17)) == 8
    assert on_shift(rota, utc(2025, 3, 30, 4, 59)) == {BEN}  # 05:59 BST
    assert on_shift(rota, utc(2025, 3, 30, 5, 0)) == set()  # 06:00 BST


def test_an_overnight_shift_over_fall_back_is_an_hour_longer_and_covers_both_one_thirties() -> None:
    rota = make("Europe/London", '[[shift]]\nvolunteer = "ben"\nday = "sat"\ntime = "22:00-06:00"\n')
    assert hours_this_week(rota, BEN, date(2025, 10, 20)) == 9
    assert on_shift(rota, local(LONDON, 2025, 10, 26, 1, 30, fold=0)) == {BEN}  # 01:30 BST
    assert on_shift(rota, local(LONDON, 2025, 10, 26, 1, 30, fold=1)) == {BEN}  # 01:30 GMT


def test_new_york_overnight_shifts_over_both_changes() -> None:
    rota = make("America/New_York", '[[shift]]\nvolunteer = "ben"\nday = "sat"\ntime = "23:00-07:00"\n')
    assert hours_this_week(rota, BEN, date(2025, 3, 3)) == 7
    assert hours_this_week(rota, BEN, date(2025, 10, 27)) == 9
    assert on_shift(rota, local(NEW_YORK, 2025, 3, 9, 6, 59)) == {BEN}
    assert on_shift(rota, local(NEW_YORK, 2025, 3, 9, 7, 0)) == set()


def test_a_time_the_clocks_skip_means_the_moment_they_jump() -> None:
    jump = utc(2025, 3, 30, 1, 0)  # 01:00 GMT becomes 02:00 BST
    assert wall_to_instant(date(2025, 3, 30), 60, LONDON) == jump
    assert wall_to_instant(date(2025, 3, 30), 90, LONDON) == jump
    assert wall_to_instant(date(2025, 3, 30), 120, LONDON) == jump
    assert wall_to_instant(date(2025, 3, 9), 150, NEW_YORK) == utc(2025, 3, 9, 7, 0)  # 02:30 -> 03:00 EDT
    # A shift inside the skipped hour does not happen that night, and resumes the week after.
    rota = make("Europe/London", '[[shift]]\nvolunteer = "ben"\nday = "sun"\ntime = "01:15-01:45"\n')
    assert hours_this_week(rota, BEN, date(2025, 3, 30)) == 0
    assert hours_this_week(rota, BEN, date(2025, 4, 6)) == 0.5


def test_a_time_that_happens_twice_means_the_first_one_so_back_to_back_shifts_meet() -> None:
    assert wall_to_instant(date(2025, 10, 26), 90, LONDON) == utc(2025, 10, 26, 0, 30)  # 01:30 BST
    rota = make(
        "Europe/London",
        '[[shift]]\nvolunteer = "ana"\nday = "sun"\ntime = "00:00-01:30"\n'
        '[[shift]]\nvolunteer = "ben"\nday = "sun"\ntime = "01:30-04:00"\n',
    )
    assert on_shift(rota, utc(2025, 10, 26, 0, 29)) == {ANA}
    assert on_shift(rota, utc(2025, 10, 26, 0, 30)) == {BEN}  # the first 01:30
    assert on_shift(rota, local(LONDON, 2025, 10, 26, 1, 30, fold=1)) == {BEN}  # the second 01:30
    volunteer_gaps = [g for g in coverage(rota, date(2025, 10, 26)) if g.kind == GapKind.NO_VOLUNTEER]
    assert volunteer_gaps == [Gap(GapKind.NO_VOLUNTEER, utc(2025, 10, 26, 4, 0), utc(2025, 10, 27, 0, 0))]


def test_cover_adds_a_one_off_shift_and_absence_removes_shifts_for_whole_days() -> None:
    rota = make(
        "Europe/London",
        DAY_SHIFT
        + '[[cover]]\nvolunteer = "ben"\ndate = 2025-06-02\ntime = "09:00-17:00"\n'
        + '[[absence]]\nvolunteer = "ana"\nfrom = 2025-06-02\nuntil = 2025-06-08\n',
    )
    assert on_shift(rota, local(LONDON, 2025, 6, 1, 12)) == {ANA}  # Sunday before the absence
    assert on_shift(rota, local(LONDON, 2025, 6, 2, 12)) == {BEN}  # Monday: ana absent, ben covers
    assert on_shift(rota, local(LONDON, 2025, 6, 8, 12)) == set()  # last day of the absence
    assert on_shift(rota, local(LONDON, 2025, 6, 9, 12)) == {ANA}
    assert on_shift(rota, local(LONDON, 2025, 6, 16, 12)) == {ANA}  # cover was one-off: ben is not there


def test_an_absence_cuts_an_overnight_shift_at_midnight() -> None:
    rota = make(
        "Europe/London",
        '[[shift]]\nvolunteer = "ben"\nday = "sun"\ntime = "22:00-02:00"\n'
        '[[absence]]\nvolunteer = "ben"\ndate = 2025-06-02\n',
    )
    assert on_shift(rota, local(LONDON, 2025, 6, 1, 23, 59)) == {BEN}
    assert on_shift(rota, local(LONDON, 2025, 6, 2, 0, 0)) == set()


ONCALL = """
[[oncall]]
professional = "lee"
backup = "kim"
days = ["mon", "tue", "wed", "thu", "fri", "sat"]
time = "00:00-24:00"
[[oncall]]
professional = "kim"
day = "sun"
time = "08:00-20:00"
"""


def test_on_call_gives_the_primary_and_the_backup() -> None:
    rota = make("Europe/London", ONCALL)
    assert on_call(rota, local(LONDON, 2025, 6, 2, 3)) == OnCall(VolunteerId("lee"), VolunteerId("kim"))
    assert on_call(rota, local(LONDON, 2025, 6, 1, 9)) == OnCall(VolunteerId("kim"), None)
    assert on_call(rota, local(LONDON, 2025, 6, 1, 21)) == OnCall(None, None)
    assert on_call(rota, local(LONDON, 2025, 6, 1, 21)).first is None


def test_an_absent_primary_leaves_the_backup_first_in_line() -> None:
    rota = make("Europe/London", ONCALL + '[[absence]]\nvolunteer = "lee"\ndate = 2025-06-03\n')
    during = on_call(rota, local(LONDON, 2025, 6, 3, 12))
    assert during == OnCall(None, VolunteerId("kim"))
    assert during.first == VolunteerId("kim")
    day_gaps = coverage(rota, date(2025, 6, 3))
    assert Gap(GapKind.NO_ONCALL, utc(2025, 6, 2, 23), utc(2025, 6, 3, 23)) in day_gaps


def test_coverage_lists_volunteer_and_on_call_gaps_of_the_local_day() -> None:
    rota = make("Europe/London", DAY_SHIFT + ONCALL)
    sunday = coverage(rota, date(2025, 6, 1))
    assert sunday == sorted(sunday, key=lambda g: (g.start, list(GapKind).index(g.kind)))
    assert [g for g in sunday if g.kind == GapKind.NO_VOLUNTEER] == [
        Gap(GapKind.NO_VOLUNTEER, utc(2025, 5, 31, 23), utc(2025, 6, 1, 8)),
        Gap(GapKind.NO_VOLUNTEER, utc(2025, 6, 1, 16), utc(2025, 6, 1, 23)),
    ]
    assert [g for g in sunday if g.kind == GapKind.NO_ONCALL] == [
        Gap(GapKind.NO_ONCALL, utc(2025, 5, 31, 23), utc(2025, 6, 1, 7)),
        Gap(GapKind.NO_ONCALL, utc(2025, 6, 1, 19), utc(2025, 6, 1, 23)),
    ]
    assert [g for g in sunday if g.kind == GapKind.NO_BACKUP] == [
        Gap(GapKind.NO_BACKUP, utc(2025, 5, 31, 23), utc(2025, 6, 1, 23)),
    ]
    monday = coverage(rota, date(2025, 6, 2))
    assert {g.kind for g in monday} == {GapKind.NO_VOLUNTEER}  # on call all day with a backup


def test_coverage_of_a_day_with_a_clock_change_spans_its_23_hours() -> None:
    rota = make("Europe/London", "")
    assert [g for g in coverage(rota, date(2025, 3, 30)) if g.kind == GapKind.NO_VOLUNTEER] == [
        Gap(GapKind.NO_VOLUNTEER, utc(2025, 3, 30, 0), utc(2025, 3, 30, 23))
    ]


def test_next_available_is_now_on_shift_else_the_next_start_skipping_absences() -> None:
    rota = make("Europe/London", DAY_SHIFT + '[[absence]]\nvolunteer = "ana"\ndate = 2025-06-08\n')
    on = local(LONDON, 2025, 6, 2, 12)
    assert next_available(rota, on) == on.astimezone(UTC)
    # Monday evening -> next Sunday is an absence -> the Monday after, 09:00 BST.
    assert next_available(rota, local(LONDON, 2025, 6, 2, 18)) == utc(2025, 6, 9, 8)
    assert next_available(make("Europe/London", ""), on) is None


def test_next_available_reaches_a_cover_weeks_away() -> None:
    rota = make("Europe/London", '[[cover]]\nvolunteer = "ben"\ndate = 2025-08-01\ntime = "10:00-12:00"\n')
    assert next_available(rota, utc(2025, 6, 1)) == utc(2025, 8, 1, 9)


def test_shift_ending_soon_ignores_a_shift_followed_straight_on_by_another() -> None:
    rota = make(
        "Europe/London",
        '[[shift]]\nvolunteer = "ana"\nday = "mon"\ntime = "09:00-13:00"\n'
        '[[shift]]\nvolunteer = "ana"\nday = "mon"\ntime = "13:00-17:00"\n'
        '[[shift]]\nvolunteer = "ben"\nday = "mon"\ntime = "09:00-13:00"\n',
    )
    at = local(LONDON, 2025, 6, 2, 12, 45)
    assert shift_ending_soon(rota, at, timedelta(minutes=30)) == [ShiftEnding(BEN, utc(2025, 6, 2, 12))]
    assert shift_ending_soon(rota, local(LONDON, 2025, 6, 2, 16, 30), timedelta(minutes=30)) == [
        ShiftEnding(ANA, utc(2025, 6, 2, 16))
    ]


def test_hours_this_week_counts_only_the_part_inside_the_week_and_flags_the_limit() -> None:
    rota = make(
        "Europe/London",
        DAY_SHIFT + '[[cover]]\nvolunteer = "ana"\ndate = 2025-06-04\ntime = "18:00-20:00"\n',
    )
    assert hours_this_week(rota, ANA, date(2025, 6, 4)) == 18  # mon 8 + sun 8 + cover 2
    assert hours_this_week(rota, ANA, date(2025, 6, 11)) == 16
    over = over_weekly_limit(rota, date(2025, 6, 4))
    assert [(o.volunteer, o.hours, o.limit) for o in over] == [(ANA, 18, 10)]


@settings(max_examples=400, deadline=None)
@given(
    zone_name=st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]),
    day=st.sampled_from(list(Weekday)),
    bounds=st.tuples(st.integers(0, 1439), st.integers(1, 1440)).filter(lambda b: b[0] != b[1]),
    at=st.datetimes(datetime(2024, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC)),
)
def test_on_shift_agrees_with_reading_the_local_clock_away_from_clock_changes(
    zone_name: str, day: Weekday, bounds: tuple[int, int], at: datetime
) -> None:
    zone = ZoneInfo(zone_name)
    if (at - timedelta(hours=26)).astimezone(zone).utcoffset() != (at + timedelta(hours=26)).astimezone(
        zone
    ).utcoffset():
        return  # within a day of a change the policy in routing.rota.clock decides; tested by name above
    time_range = TimeRange(*bounds)
    rota = Rota(zone_name, shifts=(Shift(BEN, day, time_range),))
    wall = at.astimezone(zone)
    minute = wall.hour * 60 + wall.minute + (wall.second + wall.microsecond / 1e6) / 60
    today = wall.weekday() == day and time_range.start <= minute < (
        time_range.end if not time_range.crosses_midnight else 24 * 60
    )
    from_yesterday = (wall.weekday() - 1) % 7 == day and time_range.crosses_midnight and minute < time_range.end
    assert on_shift(rota, at) == ({BEN} if today or from_yesterday else set())
