"""Training scenario files: the shipped ones load and play as written; a bad file gets a precise message."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.check_config import check
from bot.shipped import RISK_PHRASES, TRAINING_SCENARIOS
from routing.training.scenario import Reply, Scenario
from routing.training.scenario_file import ScenarioFileError, load_library, load_scenario
from routing.training.script import Move, Phase, Position, after_reply, after_timer, begin

ROOT = Path(__file__).parent.parent
SHIPPED = TRAINING_SCENARIOS

GOOD = """
title = "Tiny"
brief = "A tiny scenario."

[[step]]
id = "a"
say = "hello"
next = "b"

[[step]]
id = "b"
say = "bye"
end = true

[[check]]
id = "greeted"
label = "Greeted them"
when = ['\\bhi\\b']
"""


def shipped(name: str) -> Scenario:
    return load_scenario(SHIPPED / f"{name}.toml")


def play(scenario: Scenario, at: Position, *replies: str) -> tuple[Position, list[str]]:
    """Feed replies (a leading "/" makes a training command); returns where the script is and all it said."""
    said: list[str] = []
    for text in replies:
        reply = Reply("", text[1:]) if text.startswith("/") else Reply(text)
        move = after_reply(scenario, at, reply)
        if move is not None:
            at, said = move.position, said + list(move.say)
    return at, said


def timer(scenario: Scenario, at: Position) -> Move:
    move = after_timer(scenario, at)
    assert move is not None
    return move


def test_at_least_three_scenarios_ship_and_all_load() -> None:
    library = load_library(SHIPPED)
    assert library.problems == {}
    assert {"loneliness", "rising-risk", "goes-silent"} <= set(library.scenarios)
    for scenario in library.scenarios.values():
        assert scenario.checks and any(step.end for step in scenario.steps.values())


def test_loneliness_branches_on_a_direct_question_about_suicide() -> None:
    scenario = shipped("loneliness")
    start = begin(scenario)
    assert start.position == Position("opening", Phase.WAITING) and len(start.say) == 2
    at, said = play(scenario, start.position, "Hi, I'm glad you wrote. What's going on?")
    assert at.step == "share" and "moved here for work" in said[0]

    direct, said = play(scenario, at, "When you feel this alone, do you have thoughts of suicide?")
    assert direct.step == "not_like_that" and said[0].startswith("no. not like that")
    vague, said = play(scenario, at, "That sounds really lonely.")
    assert vague.step == "hint" and "what the point" in said[0]


def test_rising_risk_moves_on_when_the_volunteer_escalates_and_leaves_when_nobody_does() -> None:
    scenario = shipped("rising-risk")
    plan = Position("plan", Phase.WAITING)
    at, said = play(scenario, plan, "/escalate")
    assert at.step == "accepts" and "I don't really want to die" in said[0]
    at, _said = play(scenario, plan, "I'm going to bring in our on-call professional now")
    assert at.step == "accepts"

    at, _said = play(scenario, plan, "that sounds hard", "I hear you")
    assert at == Position("leaving", Phase.SILENT)
    assert play(scenario, at, "are you still there?")[0] == at  # a silent person does not react
    assert timer(scenario, at).finished


def test_a_command_moves_the_script_only_when_a_branch_asks_for_it() -> None:
    scenario = shipped("loneliness")
    at = Position("share", Phase.WAITING)
    assert play(scenario, at, "/escalate") == (at, [])  # the person never sees a command


def test_goes_silent_types_slowly_then_ignores_replies_until_the_silence_ends() -> None:
    scenario = shipped("goes-silent")
    at, said = play(scenario, begin(scenario).position, "Hi, I'm here. What's on your mind?")
    assert at == Position("topic", Phase.DELAY) and said == []
    typed = timer(scenario, at)
    assert typed.position == Position("topic", Phase.WAITING) and "failed my exam" in typed.say[0]

    at, said = play(scenario, typed.position, "what do you mean by that?")
    at, said = play(scenario, at, "that sounds like a lot of pressure")
    assert at == Position("gone", Phase.SILENT) and said == ["wait, someone's coming"]
    assert play(scenario, at, "take your time, I'm here")[0] == at
    back = timer(scenario, at)
    assert back.position == Position("back", Phase.WAITING) and back.say == ("sorry. my dad came in. I'm back",)


BAD_FILES = [
    ('titel = "x"\n' + GOOD, "the file has unknown key(s) titel"),
    (GOOD.replace('title = "Tiny"', ""), "the file: needs a non-empty title string"),
    (GOOD.replace('next = "b"', 'next = "c"'), "step 'a': next is 'c', but no step has that id; steps: a, b"),
    (
        GOOD.replace('next = "b"', 'next = "b"\n[[step.branch]]\nwhen = ["(unclosed"]\ngoto = "b"'),
        "step 'a' branch[0]: when[0] '(unclosed' is not a valid regular expression",
    ),
    (
        GOOD.replace('next = "b"', 'next = "b"\n[[step.branch]]\nwhen = ["@direct"]\ngoto = "b"'),
        "step 'a' branch[0]: when[0]: @direct is not in [patterns]",
    ),
    (
        GOOD.replace('next = "b"', 'next = "b"\n[[step.branch]]\ncommand = "page"\ngoto = "b"'),
        "step 'a' branch[0]: command 'page' is not a training command; allowed: escalate",
    ),
    (GOOD.replace('next = "b"', ""), "step 'a': needs next (the step when no branch matches"),
    (
        GOOD.replace('next = "b"', 'next = "b"\nsilence = 5\n[[step.branch]]\nwhen = ["x"]\ngoto = "b"'),
        "step 'a': a silent step ignores replies, so it cannot have branches",
    ),
    (GOOD.replace("end = true", 'next = "a"'), "no step has end = true"),
    (GOOD + '\n[[step]]\nid = "orphan"\nsay = "?"\nend = true\n', "step(s) orphan can never be reached"),
    (GOOD.replace('id = "b"', 'id = "a"'), "step[1]: the id 'a' is used by an earlier step"),
    (GOOD.replace('say = "hello"', 'say = "hello"\ndelay = -1'), "step 'a': delay must be a number of seconds"),
    (GOOD.replace('say = "hello"', "say = []\n"), "step 'a': needs say"),
    (GOOD.replace("when = ['\\bhi\\b']", 'when = ["x"]\nduring = ["c"]'), "check 'greeted': during names 'c'"),
    (GOOD.replace("[[check]]", "[[chek]]"), "the file has unknown key(s) chek"),
    (GOOD.replace('label = "Greeted them"', ""), "check 'greeted': needs a non-empty label string"),
    ("title = [unclosed", "is not valid TOML"),
]


@pytest.mark.parametrize(("text", "problem"), BAD_FILES)
def test_a_bad_file_names_the_file_and_the_field(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(text)
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert problem in str(caught.value)


def test_the_good_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(GOOD)
    scenario = load_scenario(path)
    assert scenario.name == "tiny" and scenario.first == "a"


def test_a_file_name_that_cannot_be_typed_in_train_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "Night Shift.toml"
    path.write_text(GOOD)
    with pytest.raises(ScenarioFileError, match="file name is typed in /train"):
        load_scenario(path)


def test_a_library_keeps_the_good_files_and_names_the_bad_one(tmp_path: Path) -> None:
    (tmp_path / "good.toml").write_text(GOOD)
    (tmp_path / "broken.toml").write_text(GOOD.replace('next = "b"', 'next = "nowhere"'))
    library = load_library(tmp_path)
    assert list(library.scenarios) == ["good"]
    assert "broken.toml: step 'a': next is 'nowhere'" in library.problems["broken"]
    assert load_library(tmp_path / "missing").scenarios == {}


def test_check_config_names_a_bad_scenario_file_and_its_field(tmp_path: Path) -> None:
    scenarios = tmp_path / "training"
    scenarios.mkdir()
    (scenarios / "good.toml").write_text(GOOD)
    (scenarios / "broken.toml").write_text(GOOD.replace("when = ['\\bhi\\b']", "when = ['(hi']"))
    cfg = tmp_path / "p.toml"
    cfg.write_text(
        textwrap.dedent(f"""
        [risk]
        phrases_dir = "{RISK_PHRASES}"
        [training]
        scenarios_dir = "{scenarios}"
        """)
    )
    _settings, problems = check(cfg)
    broken = [p for p in problems if p.startswith("training scenario")]
    assert len(broken) == 1
    assert "broken.toml: check 'greeted': when[0] '(hi' is not a valid regular expression" in broken[0]


def test_check_config_accepts_the_shipped_scenarios(tmp_path: Path) -> None:
    cfg = tmp_path / "p.toml"
    cfg.write_text(f'[training]\nscenarios_dir = "{SHIPPED}"\n')
    _settings, problems = check(cfg)
    assert not [p for p in problems if "training" in p]
