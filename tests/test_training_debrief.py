"""The debrief of a practice session (pure): response times, the checklist, and how it reads."""

from __future__ import annotations

import tomllib

from routing.training.debrief import Event, Speaker, checks_met, render, response_times, score, seconds_text
from routing.training.scenario import Reply, Scenario
from routing.training.scenario_file import parse_scenario

SCENARIO = """
title = "Checks"
brief = "For the debrief."

[patterns]
asked_directly = ['suicid', 'kill(ing)? yourself']

[[step]]
id = "talk"
say = "hi"
next = "quiet"

[[step]]
id = "quiet"
say = "..."
silence = 60
end = true

[[check]]
id = "asked_directly"
label = "Asked directly about suicide"
when = ["@asked_directly"]

[[check]]
id = "escalated"
label = "Escalated"
command = "escalate"
when = ['on-?call']

[[check]]
id = "checked_in"
label = "Checked in while they were quiet"
during = ["quiet"]
when = ['.']
"""


def scenario() -> Scenario:
    return parse_scenario("checks", tomllib.loads(SCENARIO))


def person(at: float) -> Event:
    return Event(at, Speaker.PERSON)


def volunteer(at: float, *checks: str, command: str | None = None) -> Event:
    return Event(at, Speaker.VOLUNTEER, frozenset(checks), command)


def test_a_response_is_timed_from_the_first_unanswered_message() -> None:
    events = [person(0), person(4), volunteer(10), volunteer(12), person(20), volunteer(25)]
    assert response_times(events) == [10, 5]


def test_commands_are_actions_not_replies() -> None:
    events = [person(0), volunteer(3, command="escalate"), volunteer(9)]
    assert response_times(events) == [9]


def test_events_are_timed_in_order_whatever_order_they_come_in() -> None:
    assert response_times([volunteer(30), person(0), person(20), volunteer(8)]) == [8, 10]


def test_checks_follow_patterns_commands_and_steps() -> None:
    s = scenario()
    assert checks_met(s, Reply("Are you thinking about SUICIDE?"), "talk") == {"asked_directly"}
    assert checks_met(s, Reply("I’ll get our on-call professional"), "talk") == {"escalated"}
    assert checks_met(s, Reply("", "escalate"), "talk") == {"escalated"}
    assert checks_met(s, Reply("still here"), "quiet") == {"checked_in"}
    assert checks_met(s, Reply("still here"), "talk") == frozenset()


def test_the_debrief_counts_times_and_the_checklist() -> None:
    events = [person(0), volunteer(10, "asked_directly"), person(12), volunteer(42), person(50), volunteer(60)]
    debrief = score(
        scenario(), events, volunteer="Ana", ending="the script finished", started_at=0, ended_at=125,
        path=("talk", "quiet"),
    )  # fmt: skip
    assert (debrief.first_reply, debrief.median_reply) == (10, 10)
    assert (debrief.replies, debrief.person_messages) == (3, 3)
    assert debrief.checklist == (
        ("Asked directly about suicide", True),
        ("Escalated", False),
        ("Checked in while they were quiet", False),
    )
    text = render(debrief)
    assert text.splitlines()[0] == "TRAINING DEBRIEF · Checks (checks) · Ana"
    assert "How it ended: the script finished, after 2 min 5 s." in text
    assert "Response times: first reply 10 s, median 10 s." in text
    assert "Key steps (1 of 3):\n✓ Asked directly about suicide\n✗ Escalated\n✗ Checked in" in text
    assert text.endswith("The script's path: talk → quiet")


def test_a_session_without_replies_says_so() -> None:
    debrief = score(
        scenario(), [person(0)], volunteer="Ana", ending="ended with /end by Sam", started_at=0, ended_at=5,
        path=("talk",),
    )  # fmt: skip
    assert debrief.first_reply is None
    assert "Response times: no replies to time." in render(debrief)


def test_a_debrief_without_its_scenario_still_reports_times() -> None:
    debrief = score(None, [person(0), volunteer(7)], volunteer="Ana", ending="gone", started_at=0, ended_at=9, path=())
    text = render(debrief)
    assert "unknown scenario" in text and "first reply 7 s" in text and "Key steps" not in text


def test_durations_read_naturally() -> None:
    assert [seconds_text(s) for s in (0.4, 42, 60, 185, 3725)] == ["0 s", "42 s", "1 min", "3 min 5 s", "1 h 2 min"]
