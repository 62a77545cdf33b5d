"""Reads and checks training scenario files (`<name>.toml`, shipped in `bot/shipped/training/`); every problem
names file and field.

A file looks like this (see the shipped scenarios for whole examples):

    title = "Loneliness"
    brief = "Who the person is and what to practise (shown to the volunteer at the start)."

    [patterns]                       # optional: named pattern lists, used as "@asked_directly"
    asked_directly = ['suicid', 'kill(ing)? yourself']

    [[step]]
    id = "opening"
    say = ["hi", "is anyone there?"] # what the person says on entering the step
    delay = 20                       # optional: seconds before they say it
    next = "share"                   # after the volunteer's reply, when no branch matches
      [[step.branch]]
      when = ["@asked_directly"]     # regexes (case-insensitive); any may match
      command = "escalate"           # or: the volunteer used /escalate
      goto = "disclose"

    [[step]]
    id = "gone"
    say = "someone's coming"
    silence = 120                    # then silent for 120 s, whatever the volunteer writes, then `next`
    next = "back"

    [[step]]
    id = "close"
    say = "thanks"
    end = true                       # the script finishes (after `silence`, if any) and the debrief follows

    [[check]]
    id = "asked_directly"
    label = "Asked directly about suicide"
    when = ["@asked_directly"]
    during = ["share"]               # optional: only replies at these steps count
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routing.training.scenario import TRAINING_COMMANDS, Branch, Check, Condition, Scenario, Step

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_TOP_KEYS = frozenset({"title", "brief", "patterns", "step", "check"})
_STEP_KEYS = frozenset({"id", "say", "next", "branch", "delay", "silence", "end"})
_BRANCH_KEYS = frozenset({"when", "command", "goto"})
_CHECK_KEYS = frozenset({"id", "label", "when", "command", "during"})
MAX_SECONDS = 24 * 3600
MAX_SAY = 4000


class ScenarioFileError(ValueError):
    """A problem with one scenario file, naming the file and the field."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class _Problem(Exception):
    """Found while checking; becomes a ScenarioFileError with the path attached."""


def load_scenario(path: Path) -> Scenario:
    """Read and check one scenario file; raise ScenarioFileError naming the file and the problem."""
    if not _NAME.fullmatch(path.stem):
        raise ScenarioFileError(path, "the file name is typed in /train: use lowercase letters, digits, - and _")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise ScenarioFileError(path, "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioFileError(path, f"is not valid TOML: {exc}") from None
    try:
        return parse_scenario(path.stem, data)
    except _Problem as exc:
        raise ScenarioFileError(path, str(exc)) from None


@dataclass(frozen=True, slots=True)
class ScenarioLibrary:
    """The scenarios that loaded, by name, and the problem of each file that did not."""

    scenarios: Mapping[str, Scenario] = field(default_factory=dict)
    problems: Mapping[str, str] = field(default_factory=dict)


def load_library(directory: Path) -> ScenarioLibrary:
    """Every `*.toml` in `directory`; a bad file is left out and its problem kept (a missing directory: none)."""
    scenarios: dict[str, Scenario] = {}
    problems: dict[str, str] = {}
    for path in sorted(directory.glob("*.toml")) if directory.is_dir() else []:
        try:
            scenarios[path.stem] = load_scenario(path)
        except ScenarioFileError as exc:
            problems[path.stem] = str(exc)
    return ScenarioLibrary(scenarios, problems)


def parse_scenario(name: str, data: Mapping[str, Any]) -> Scenario:
    """Build a scenario from a file's data; raises _Problem naming the field."""
    _known_keys(data, _TOP_KEYS, "the file")
    patterns = _named_patterns(data.get("patterns", {}))
    raw_steps = _tables(data, "step")
    steps: dict[str, Step] = {}
    for index, raw in enumerate(raw_steps):
        step = _step(raw, index, patterns)
        if step.id in steps:
            raise _Problem(f"step[{index}]: the id {step.id!r} is used by an earlier step; ids must be unique")
        steps[step.id] = step
    _targets_exist(steps)
    checks = tuple(_check(raw, index, patterns, steps) for index, raw in enumerate(_tables(data, "check")))
    _unique([c.id for c in checks], "check")
    scenario = Scenario(
        name=name,
        title=_text(data, "title", "the file"),
        brief=_text(data, "brief", "the file"),
        steps=steps,
        first=next(iter(steps)),
        checks=checks,
    )
    _ends_and_reachable(scenario)
    return scenario


def _step(raw: Mapping[str, Any], index: int, patterns: Mapping[str, tuple[str, ...]]) -> Step:
    where = f"step[{index}]"
    _known_keys(raw, _STEP_KEYS, where)
    step_id = _identifier(raw, where)
    where = f"step {step_id!r}"
    end = raw.get("end", False)
    if not isinstance(end, bool):
        raise _Problem(f"{where}: end must be true or false")
    silence = _seconds(raw, "silence", where)
    step = Step(
        id=step_id,
        say=_say(raw.get("say", []), where),
        branches=tuple(
            _branch(b, f"{where} branch[{i}]", patterns) for i, b in enumerate(_tables(raw, "branch", minimum=0))
        ),
        next=_optional_text(raw, "next", where),
        delay=_seconds(raw, "delay", where),
        silence=silence,
        end=end,
    )
    _transition_rules(step, where)
    return step


def _transition_rules(step: Step, where: str) -> None:
    """Every step says how the script goes on, and nothing contradicts it."""
    if not step.say and not step.silence:
        raise _Problem(f"{where}: needs say (what the person says), or silence for a step where they say nothing")
    if step.end:
        if step.next is not None or step.branches:
            raise _Problem(f"{where}: an end step cannot have next or branches (the script finishes there)")
        return
    if step.silence and step.branches:
        raise _Problem(f"{where}: a silent step ignores replies, so it cannot have branches; use next")
    if step.next is None:
        what = "after the silence" if step.silence else "when no branch matches the volunteer's reply"
        raise _Problem(f"{where}: needs next (the step {what}), or end = true")


def _branch(raw: Mapping[str, Any], where: str, patterns: Mapping[str, tuple[str, ...]]) -> Branch:
    _known_keys(raw, _BRANCH_KEYS, where)
    return Branch(condition=_condition(raw, where, patterns), goto=_text(raw, "goto", where))


def _check(
    raw: Mapping[str, Any], index: int, patterns: Mapping[str, tuple[str, ...]], steps: Mapping[str, Step]
) -> Check:
    where = f"check[{index}]"
    _known_keys(raw, _CHECK_KEYS, where)
    check_id = _identifier(raw, where)
    where = f"check {check_id!r}"
    during = _strings(raw.get("during", []), f"{where}: during")
    for step in during:
        if step not in steps:
            raise _Problem(f"{where}: during names {step!r}, but no step has that id; steps: {', '.join(steps)}")
    return Check(check_id, _text(raw, "label", where), _condition(raw, where, patterns), frozenset(during))


def _condition(raw: Mapping[str, Any], where: str, patterns: Mapping[str, tuple[str, ...]]) -> Condition:
    command = _optional_text(raw, "command", where)
    if command is not None and command not in TRAINING_COMMANDS:
        raise _Problem(f"{where}: command {command!r} is not a training command; allowed: escalate")
    sources = _strings(raw.get("when", []), f"{where}: when")
    if not sources and command is None:
        raise _Problem(f"{where}: needs when (patterns the volunteer's message may match) or command")
    compiled: list[re.Pattern[str]] = []
    for i, source in enumerate(sources):
        for pattern in _expand(source, patterns, f"{where}: when[{i}]"):
            try:
                compiled.append(re.compile(pattern, re.IGNORECASE))
            except re.error as exc:
                raise _Problem(f"{where}: when[{i}] {pattern!r} is not a valid regular expression ({exc})") from None
    return Condition(tuple(compiled), command)


def _expand(source: str, patterns: Mapping[str, tuple[str, ...]], where: str) -> tuple[str, ...]:
    if not source.startswith("@"):
        return (source,)
    found = patterns.get(source[1:])
    if found is None:
        known = ", ".join(f"@{n}" for n in patterns) or "none (add a [patterns] table)"
        raise _Problem(f"{where}: {source} is not in [patterns]; known: {known}")
    return found


def _named_patterns(raw: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        raise _Problem("patterns must be a table of named lists, e.g. [patterns] asked_directly = ['suicid']")
    named: dict[str, tuple[str, ...]] = {}
    for name, value in raw.items():
        found = tuple(_strings(value, f"patterns.{name}"))
        if not found:
            raise _Problem(f"patterns.{name} must list at least one pattern")
        named[name] = found
    return named


def _targets_exist(steps: Mapping[str, Step]) -> None:
    for step in steps.values():
        targets = [("next", step.next)] + [(f"branch[{i}].goto", b.goto) for i, b in enumerate(step.branches)]
        for name, target in targets:
            if target is not None and target not in steps:
                raise _Problem(
                    f"step {step.id!r}: {name} is {target!r}, but no step has that id; steps: {', '.join(steps)}"
                )


def _ends_and_reachable(scenario: Scenario) -> None:
    seen: set[str] = set()
    todo = [scenario.first]
    while todo:
        step = scenario.step(todo.pop())
        if step.id not in seen:
            seen.add(step.id)
            todo += [b.goto for b in step.branches] + ([step.next] if step.next else [])
    unreachable = [s for s in scenario.steps if s not in seen]
    if unreachable:
        raise _Problem(f"step(s) {', '.join(unreachable)} can never be reached from the first step {scenario.first!r}")
    if not any(s.end for s in scenario.steps.values()):
        raise _Problem("no step has end = true, so the script could never finish by itself")


def _tables(data: Mapping[str, Any], key: str, minimum: int = 1) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise _Problem(f"{key} must be a list of [[{key}]] tables")
    if len(value) < minimum:
        raise _Problem(f"needs at least {minimum} [[{key}]] table")
    return value


def _known_keys(raw: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise _Problem(f"{where} has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")


def _identifier(raw: Mapping[str, Any], where: str) -> str:
    value = _text(raw, "id", where)
    if not _NAME.fullmatch(value):
        raise _Problem(f"{where}: id {value!r} must be lowercase letters, digits, - and _ (at most 40)")
    return value


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _Problem(f"{where}: needs a non-empty {key} string")
    return value.strip()


def _optional_text(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    return _text(raw, key, where) if key in raw else None


def _strings(value: object, where: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v.strip() for v in items):
        raise _Problem(f"{where} must be a string or a list of non-empty strings")
    return [v.strip() for v in items]


def _say(value: object, where: str) -> tuple[str, ...]:
    said = _strings(value, f"{where}: say")
    for i, text in enumerate(said):
        if len(text) > MAX_SAY:
            raise _Problem(f"{where}: say[{i}] is {len(text)} characters; at most {MAX_SAY}")
    return tuple(said)


def _seconds(raw: Mapping[str, Any], key: str, where: str) -> float:
    value = raw.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_SECONDS:
        raise _Problem(f"{where}: {key} must be a number of seconds from 0 to {MAX_SECONDS}")
    return float(value)


def _unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise _Problem(f"{what} id {value!r} is used twice; ids must be unique")
        seen.add(value)
