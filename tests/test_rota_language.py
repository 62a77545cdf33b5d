"""The rota answers staff in the organisation's language (`staff.language`): `/rota`, `/oncall`, a refused or
mistyped coordinator command and a refused change read in Spanish, built here from the catalogue's own
translations; what staff type (ids, day words, HH:MM) stays as typed, and English reads as it always did."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from babel.dates import format_date, format_datetime

from routing.i18n import SOURCE, translate, use_staff_language
from routing.model import Role, VolunteerId
from routing.roster import StaffMember
from routing.rota import Rota, RotaError, parse_rota
from routing.rota.changes import AddShift, apply_change, describe_change
from routing.rota.commands import CommandError, ShowOnCall, ShowRota, parse_rota_command, refusal, render_view
from routing.rota.model import Shift, TimeRange, Weekday

NOW = datetime(2025, 3, 29, 12, 0, tzinfo=UTC)  # a Saturday; clocks go forward in London the next day
ZONE = "Europe/London"


def es(text: str, /, **params: object) -> str:
    """`text` as the Spanish catalogue says it, filled in (and a check that it is translated at all)."""
    said = translate("es", text)
    assert said != text or text in ("{day} ({title})", "{entry}: {problem}"), f"not translated: {text!r}"
    return said.format(**params)


def _rota() -> Rota:
    return parse_rota(
        {
            "timezone": ZONE,
            "staff": [
                {"id": "ana"},
                {"id": "lee", "roles": ["professional"]},
                {"id": "kim", "roles": ["professional", "coordinator"]},
            ],
            "shift": [{"volunteer": "ana", "days": ["sat", "sun"], "time": "09:00-17:00"}],
            "oncall": [
                {"professional": "lee", "backup": "kim", "day": "sat", "time": "00:00-24:00"},
                {"professional": "kim", "day": "sun", "time": "00:00-12:00"},
            ],
        }
    )


def _volunteer() -> StaffMember:
    return StaffMember(id=VolunteerId("x"), name="X", roles=frozenset({Role.VOLUNTEER}))


def test_rota_reads_in_spanish() -> None:
    use_staff_language("es")
    answer = render_view(_rota(), ShowRota(), NOW)
    today = es("{day} ({title})", day=format_date(date(2025, 3, 29), "EEE dd MMM y", locale="es"), title=es("Today"))
    tomorrow = format_date(date(2025, 3, 30), "EEE dd MMM y", locale="es")
    assert answer.splitlines()[:3] == [
        es("Rota ({timezone})", timezone=ZONE),
        es("Now on shift: {volunteers}", volunteers="ana"),
        es("Now on call: {professional}{backup}", professional="lee", backup=es(", backup {backup}", backup="kim")),
    ]
    assert f"{today}\n  {es('On shift:')}\n    09:00-17:00 ana\n" in answer
    gap = es("GAP {start}-{end}: {what}", start="17:00", end="24:00", what=es("no volunteer on shift"))
    assert f"  {gap}\n  {es('On call:')}\n" in answer
    assert f"{es('{day} ({title})', day=tomorrow, title=es('Tomorrow'))}\n" in answer
    assert f"  {es('Clocks go forward today: the day has {hours:g} hours.', hours=23.0)}\n" in answer
    assert f"    00:00-12:00 kim{es(', no backup')}\n" in answer
    for english in ("Today", "Tomorrow", "On shift:", "On call:", "GAP ", "no backup", "Sat 29 Mar"):
        assert english not in answer


def test_oncall_reads_in_spanish_with_blocks_as_typed() -> None:
    use_staff_language("es")
    answer = render_view(_rota(), ShowOnCall(), NOW)
    zone_start = datetime(2025, 3, 30, 11, 0, tzinfo=UTC)  # Sunday 12:00 in London (summer time)
    zone_end = datetime(2025, 4, 4, 23, 0, tzinfo=UTC)  # Saturday 00:00 in London
    start, end = (format_datetime(t, "EEE dd MMM HH:mm", tzinfo=ZONE, locale="es") for t in (zone_start, zone_end))
    assert answer.splitlines()[0] == es("On call ({timezone})", timezone=ZONE)
    assert f"{es('Weekly blocks:')}\n  sat 00:00-24:00 lee (backup kim)\n  sun 00:00-12:00 kim\n" in answer
    assert f"{es('Gaps in the next 7 days:')}\n" in answer
    assert f"  {start} - {end}: {es('no on-call professional')}" in answer


def test_a_refused_or_mistyped_coordinator_command_reads_in_spanish() -> None:
    use_staff_language("es")
    change = parse_rota_command("/shift add ana mon 09:00-17:00")
    assert change is not None and not isinstance(change, CommandError)
    assert refusal(_volunteer(), change) == es("Only coordinators can use the rota commands; please ask a coordinator.")
    mistyped = parse_rota_command("/shift add ana lunes 09:00-17:00")
    usage = es("/shift add|remove <volunteer> <day> <HH:MM-HH:MM>, e.g. /shift add ana mon 09:00-17:00")
    problem = es("{text!r} is not a day of the week; use mon, tue, wed, thu, fri, sat or sun", text="lunes")
    assert mistyped == CommandError(es("{problem} (usage: {usage})", problem=problem, usage=usage))
    assert "/shift add ana mon 09:00-17:00" in usage  # what staff type stays as typed


def test_a_refused_change_and_a_confirmation_read_in_spanish() -> None:
    use_staff_language("es")
    overlapping = AddShift(Shift(VolunteerId("ana"), Weekday.SAT, TimeRange.parse("16:00-18:00")))
    with pytest.raises(RotaError) as refused:
        apply_change(_rota(), overlapping)
    assert refused.value.problems == (
        es(
            "shift {shift} overlaps {volunteer}'s shift {day} {time}; one person cannot be on two shifts at once",
            shift="ana sat 16:00-18:00",
            volunteer="ana",
            day="sat",
            time="09:00-17:00",
        ),
    )
    added = AddShift(Shift(VolunteerId("ana"), Weekday.MON, TimeRange.parse("09:00-17:00")))
    assert describe_change(added) == es("Added the weekly shift {shift}.", shift="ana mon 09:00-17:00")


def test_english_reads_as_before_after_another_language() -> None:
    english = [render_view(_rota(), ShowRota(), NOW), render_view(_rota(), ShowOnCall(), NOW)]
    use_staff_language("es")
    spanish = [render_view(_rota(), ShowRota(), NOW), render_view(_rota(), ShowOnCall(), NOW)]
    use_staff_language(SOURCE)
    assert [render_view(_rota(), ShowRota(), NOW), render_view(_rota(), ShowOnCall(), NOW)] == english != spanish
    assert english[0].startswith("Rota (Europe/London)\nNow on shift: ana\nNow on call: lee, backup kim\n")
    assert "Sat 29 Mar 2025 (Today)\n  On shift:\n" in english[0]
    assert "Weekly blocks:\n" in english[1]
    assert parse_rota_command("/shift add ana lunes 09:00-17:00") == CommandError(
        "'lunes' is not a day of the week; use mon, tue, wed, thu, fri, sat or sun "
        "(usage: /shift add|remove <volunteer> <day> <HH:MM-HH:MM>, e.g. /shift add ana mon 09:00-17:00)"
    )
