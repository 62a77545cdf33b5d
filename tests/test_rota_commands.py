"""Coordinator commands: parsed into typed changes or a precise message, refused for non-coordinators,
and `/rota` / `/oncall` rendered as a coordinator reads them."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.model import Role, VolunteerId
from routing.roster import StaffMember
from routing.rota import (
    Absence,
    Cover,
    OnCallBlock,
    Rota,
    RotaError,
    Shift,
    TimeRange,
    Weekday,
    can_change_rota,
    parse_rota,
)
from routing.rota.changes import (
    AddAbsence,
    AddCover,
    AddShift,
    AddVolunteer,
    RemoveAbsence,
    RemoveCover,
    RemoveShift,
    RemoveVolunteer,
    SetCapacity,
    SetOnCall,
    apply_change,
)
from routing.rota.commands import (
    CommandError,
    ShowOnCall,
    ShowRota,
    is_change,
    parse_rota_command,
    refusal,
    render_view,
)

ROOT = Path(__file__).parent.parent
ANA, LEE, KIM = VolunteerId("ana"), VolunteerId("lee"), VolunteerId("kim")
T = TimeRange.parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/rota", ShowRota()),
        ("/rota 2025-03-30", ShowRota(date(2025, 3, 30))),
        ("/rota@peerbridge_bot", ShowRota()),
        ("/shift add ana mon 09:00-17:00", AddShift(Shift(ANA, Weekday.MON, T("09:00-17:00")))),
        ("/shift remove @ana Monday 9:00 - 17:00", RemoveShift(Shift(ANA, Weekday.MON, T("09:00-17:00")))),
        ("!shift add ana sun 22:00-02:00", AddShift(Shift(ANA, Weekday.SUN, T("22:00-02:00")))),
        ("/cover ana 2025-03-31 18:00-22:00", AddCover(Cover(ANA, date(2025, 3, 31), T("18:00-22:00")))),
        ("/cover remove ana 2025-03-31 18:00-22:00", RemoveCover(Cover(ANA, date(2025, 3, 31), T("18:00-22:00")))),
        ("/absence add ana 2025-04-01..2025-04-07", AddAbsence(Absence(ANA, date(2025, 4, 1), date(2025, 4, 7)))),
        ("/absence add ana 2025-04-01 2025-04-07", AddAbsence(Absence(ANA, date(2025, 4, 1), date(2025, 4, 7)))),
        ("/absence remove ana 2025-04-01", RemoveAbsence(Absence(ANA, date(2025, 4, 1), date(2025, 4, 1)))),
        ("/capacity ana 2", SetCapacity(ANA, 2)),
        ("/capacity ana 0", SetCapacity(ANA, 0)),
        ("/oncall", ShowOnCall()),
        ("/oncall show", ShowOnCall()),
        ("/oncall set lee mon 00:00-24:00", SetOnCall(OnCallBlock(LEE, Weekday.MON, T("00:00-24:00")))),
        ("/oncall set lee fri 18:00-08:00 kim", SetOnCall(OnCallBlock(LEE, Weekday.FRI, T("18:00-08:00"), KIM))),
        ("/volunteer add zoe", AddVolunteer(VolunteerId("zoe"), "zoe")),
        ("/volunteer add zoe Zoë Smith", AddVolunteer(VolunteerId("zoe"), "Zoë Smith")),
        ("/volunteer remove zoe", RemoveVolunteer(VolunteerId("zoe"))),
    ],
)
def test_commands_parse_into_typed_changes(text: str, expected: object) -> None:
    assert parse_rota_command(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("/shift add ana mon 25:00-26:00", "'25:00' is not a time: hours go from 00 to 23"),
        ("/shift add ana mon 12:60-13:00", "'12:60' is not a time: minutes go from 00 to 59"),
        ("/shift add ana mon 17:00-17:00", "starts and ends at the same time"),
        ("/shift add ana funday 09:00-17:00", "'funday' is not a day of the week"),
        ("/shift add ana mon", "incomplete or has extra words; write it as /shift add|remove"),
        ("/shift move ana mon 09:00-17:00", "/shift add|remove <volunteer>"),
        ("/cover ana 2025-02-30 09:00-10:00", "'2025-02-30' is not a date; write it as YYYY-MM-DD"),
        ("/cover ana 30/03/2025 09:00-10:00", "'30/03/2025' is not a date"),
        ("/capacity ana 21", "'21' is not a capacity: it must be a whole number from 0 to 20"),
        ("/capacity ana -1", "'-1' is not a capacity"),
        ("/capacity ana two", "'two' is not a capacity"),
        ("/capacity ana ²", "'²' is not a capacity"),
        ("/oncall set lee mon", "/oncall [show] or /oncall set"),
        ("/volunteer add ana!", "'ana!' cannot be an id"),
        ("/volunteer", "/volunteer add <id> [name] or /volunteer remove <id>"),
        ("/absence add ana 2025-04-07..2025-04-01", "the absence ends (2025-04-01) before it starts (2025-04-07)"),
        ("/rota tomorrow", "'tomorrow' is not a date"),
    ],
)
def test_bad_commands_get_a_precise_message(text: str, message: str) -> None:
    result = parse_rota_command(text)
    assert isinstance(result, CommandError)
    assert message in result.message


@pytest.mark.parametrize("text", ["/next", "/take c-1", "hello", "/", "! rota", ""])
def test_other_text_is_not_a_rota_command(text: str) -> None:
    assert parse_rota_command(text) is None


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_text_never_raises(text: str) -> None:
    result = parse_rota_command(text)
    assert result is None or isinstance(result, CommandError) or parse_rota_command(text) == result


words = st.sampled_from(
    ["add", "remove", "set", "show", "ana", "@lee", "mon", "sun", "Monday", "09:00-17:00", "22:00-02:00",
     "24:00-01:00", "9:00", "-", "17:00", "2025-03-30", "2025-02-30", "..", "0", "20", "21", "x" * 70, "ü", "١"]
)  # fmt: skip
commands = st.sampled_from(["/rota", "/shift", "/cover", "/absence", "/capacity", "/oncall", "/volunteer"])


@settings(max_examples=1000, deadline=None)
@given(commands, st.lists(words | st.text(min_size=1, max_size=6), max_size=6))
def test_near_miss_commands_parse_or_error_and_never_raise(command: str, args: list[str]) -> None:
    result = parse_rota_command(" ".join([command, *args]))
    assert result is not None
    if isinstance(result, CommandError):
        assert result.message and "usage:" in result.message


@settings(max_examples=300, deadline=None)
@given(commands, st.lists(words, max_size=6))
def test_a_parsed_change_applies_or_is_refused_with_a_message(command: str, args: list[str]) -> None:
    result = parse_rota_command(" ".join([command, *args]))
    if result is None or isinstance(result, CommandError | ShowRota | ShowOnCall):
        return
    assert is_change(result)
    rota = _rota()
    problems: tuple[str, ...] = ()
    try:
        changed = apply_change(rota, result)
    except RotaError as exc:
        problems = exc.problems
    else:
        assert changed != rota or isinstance(result, SetOnCall)  # a change that is accepted changes something
    assert all(problems)


def _member(*roles: Role) -> StaffMember:
    return StaffMember(id=VolunteerId("x"), name="X", roles=frozenset({Role.VOLUNTEER, *roles}))


def test_rota_commands_are_for_coordinators_only() -> None:
    change = parse_rota_command("/shift add ana mon 09:00-17:00")
    assert change is not None and not isinstance(change, CommandError)
    volunteer, supervisor, coordinator = _member(), _member(Role.SUPERVISOR), _member(Role.COORDINATOR)
    assert refusal(volunteer, change) == "Only coordinators can use the rota commands; please ask a coordinator."
    assert refusal(supervisor, change) is not None
    assert refusal(coordinator, change) is None
    assert refusal(volunteer, ShowRota()) is not None  # the issue: coordinator role only, others refused
    assert refusal(coordinator, ShowRota()) is None and refusal(coordinator, ShowOnCall()) is None
    assert not can_change_rota(volunteer) and can_change_rota(coordinator)


def _rota() -> Rota:
    text = """
timezone = "Europe/London"
[[staff]]
id = "ana"
[[staff]]
id = "lee"
roles = ["professional"]
[[staff]]
id = "kim"
roles = ["professional", "coordinator"]
[[shift]]
volunteer = "ana"
days = ["sat", "sun"]
time = "09:00-17:00"
[[oncall]]
professional = "lee"
backup = "kim"
day = "sat"
time = "00:00-24:00"
[[oncall]]
professional = "kim"
day = "sun"
time = "00:00-12:00"
"""
    return parse_rota(tomllib.loads(text))


def test_rota_answer_shows_today_and_tomorrow_with_gaps_and_the_clock_change() -> None:
    now = datetime(2025, 3, 29, 12, 0, tzinfo=UTC)
    answer = render_view(_rota(), ShowRota(), now)
    assert answer.splitlines()[:3] == ["Rota (Europe/London)", "Now on shift: ana", "Now on call: lee, backup kim"]
    assert "Sat 29 Mar 2025 (Today)\n  On shift:\n    09:00-17:00 ana\n" in answer
    assert "  GAP 00:00-09:00: no volunteer on shift\n  GAP 17:00-24:00: no volunteer on shift\n" in answer
    assert "Sun 30 Mar 2025 (Tomorrow)\n  Clocks go forward today: the day has 23 hours.\n" in answer
    assert "    00:00-12:00 kim, no backup\n" in answer
    assert answer.endswith("  GAP 00:00-24:00: no on-call backup\n  GAP 12:00-24:00: no on-call professional")


def test_rota_answer_for_another_day_has_no_now_lines() -> None:
    answer = render_view(_rota(), ShowRota(date(2025, 4, 7)), datetime(2025, 3, 29, 12, tzinfo=UTC))
    assert "Now on" not in answer
    assert "Mon 07 Apr 2025\n  On shift:\n    nobody\n  GAP 00:00-24:00: no volunteer on shift\n" in answer
    assert "Tue 08 Apr 2025\n" in answer


def test_oncall_answer_lists_blocks_and_the_weeks_gaps() -> None:
    answer = render_view(_rota(), ShowOnCall(), datetime(2025, 3, 29, 12, tzinfo=UTC))
    assert "Now on call: lee, backup kim" in answer
    assert "  sat 00:00-24:00 lee (backup kim)\n  sun 00:00-12:00 kim\n" in answer
    assert "  Sun 30 Mar 12:00 - Sat 05 Apr 00:00: no on-call professional" in answer
