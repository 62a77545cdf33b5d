"""Scripted people and volunteers for `peerbridge demo --scenario`, played through the platform sandboxes.

A scenario is data: `bot/shipped/scenarios/<name>.toml` with a `title`, a `summary` and `[[step]]` tables. A step
happens `at` seconds after the start; `repeat = N` with `every = S` makes N copies S seconds apart, and in a
copy any value given as a list is taken in turn and `{n}` is replaced by the copy's number (1..N). A step is
one of:

    person = "Robin", say = "..."                    the person writes to the bot (on Telegram)
    person = "Robin", say = "...", platform = "discord"  ... or in a direct message on Discord
    volunteer = "Ana", take = "Robin"                press Take on Robin's queue card
    volunteer = "Ana", next = true                   /next in the General topic
    volunteer = "Ana", reply = "Robin", say = "..."  write in Robin's conversation topic
    volunteer = "Ana", end = "Robin"                 /end in Robin's topic
    professional = "Dr Rivera", acknowledge = "Robin"  press Acknowledge on Robin's alert

A person stays on the platform of their first message. Staff always work in the Telegram forum group (the
demo's staff workspace), whichever platform the person wrote on. Everything goes through the sandboxes, so
the real python-telegram-bot, discord.py and the real bridge do the work. A step that cannot happen (say, the
topic never opened, or there is no Discord sandbox) is skipped with a warning that names no text.
"""

from __future__ import annotations

import asyncio
import logging
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import shipped
from routing.model import Platform
from sandboxes.discord import DiscordSandbox
from sandboxes.discord import SandboxError as DiscordSandboxError
from sandboxes.discord import User as DiscordUser
from sandboxes.telegram import Message, SandboxError, TelegramSandbox, User

log = logging.getLogger(__name__)

SCENARIOS = shipped.DEMO_SCENARIOS
ACTIONS = ("say", "take", "next", "reply", "end", "acknowledge")
PLATFORMS = (Platform.TELEGRAM.value, Platform.DISCORD.value)
_CONV = re.compile(r"^take (c-\d+)$")


class ScenarioError(ValueError):
    """A scenario file that cannot be played, in plain words."""


@dataclass(frozen=True, slots=True)
class Action:
    at: float
    role: str  # person | volunteer | professional
    actor: str
    kind: str  # one of ACTIONS
    target: str = ""  # the person a staff action is about
    text: str = ""
    platform: str = Platform.TELEGRAM.value  # where a person writes


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str
    summary: str
    actions: tuple[Action, ...]

    def staff(self, role: str) -> list[str]:
        """Names of the volunteers or professionals the script plays, in order of first appearance."""
        return list(dict.fromkeys(a.actor for a in self.actions if a.role == role))


def available(directory: Path = SCENARIOS) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.toml"))


def load_scenario(name: str, directory: Path = SCENARIOS) -> Scenario:
    path = directory / f"{name}.toml"
    if not re.fullmatch(r"[a-z0-9_-]+", name) or not path.is_file():
        raise ScenarioError(f"no scenario {name!r}; choose one of: {', '.join(available(directory)) or 'none'}")
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path.name} is not valid TOML: {exc}") from None
    return parse_scenario(name, data)


def _pick(value: Any, n: int, where: str) -> Any:
    if isinstance(value, list):
        if not value:
            raise ScenarioError(f"{where}: an empty list")
        value = value[(n - 1) % len(value)]
    return value.replace("{n}", str(n)) if isinstance(value, str) else value


def _number(step: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = step.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ScenarioError(f"{where}: {key} must be a number of seconds, 0 or more")
    return float(value)


def _action(step: Mapping[str, Any], n: int, at: float, where: str) -> Action:
    roles = [r for r in ("person", "volunteer", "professional") if r in step]
    if len(roles) != 1:
        raise ScenarioError(f"{where}: name exactly one of person, volunteer or professional")
    role = roles[0]
    actor = _pick(step[role], n, where)
    kinds = [k for k in ACTIONS if k in step and not (k == "say" and "reply" in step)]
    allowed = {"person": ("say",), "volunteer": ACTIONS[1:5], "professional": ("acknowledge",)}[role]
    if len(kinds) != 1 or kinds[0] not in allowed:
        raise ScenarioError(f"{where}: a {role} step does one of: {', '.join(allowed)}")
    kind = kinds[0]
    text = _pick(step.get("say", ""), n, where)
    target = "" if kind in ("say", "next") else _pick(step[kind], n, where)
    if not isinstance(actor, str) or not actor or not isinstance(text, str) or not isinstance(target, str):
        raise ScenarioError(f"{where}: names and messages are text")
    if kind in ("say", "reply") and not text:
        raise ScenarioError(f"{where}: say what?")
    return Action(at, role, actor, kind, target, text, _platform(step, n, role, where))


def _platform(step: Mapping[str, Any], n: int, role: str, where: str) -> str:
    if "platform" in step and role != "person":
        raise ScenarioError(f"{where}: only a person step names a platform (staff work in the Telegram group)")
    platform = _pick(step.get("platform", Platform.TELEGRAM.value), n, where)
    if platform not in PLATFORMS:
        raise ScenarioError(f"{where}: platform is telegram or discord")
    return str(platform)


def parse_scenario(name: str, data: Mapping[str, Any]) -> Scenario:
    steps = data.get("step", [])
    if not isinstance(steps, list) or not steps:
        raise ScenarioError(f"{name}: needs [[step]] tables")
    actions: list[Action] = []
    for index, step in enumerate(steps, start=1):
        where = f"{name}, step {index}"
        if not isinstance(step, Mapping):
            raise ScenarioError(f"{where}: not a table")
        at, every = _number(step, "at", 0, where), _number(step, "every", 0, where)
        repeat = step.get("repeat", 1)
        if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= 500:
            raise ScenarioError(f"{where}: repeat must be a whole number from 1 to 500")
        actions += [_action(step, n, at + (n - 1) * every, where) for n in range(1, repeat + 1)]
    actions.sort(key=lambda a: a.at)  # stable: steps at the same moment keep file order
    return Scenario(name, str(data.get("title", name)), str(data.get("summary", "")), tuple(actions))


@dataclass(slots=True)
class PlayReport:
    done: int = 0
    skipped: int = 0


class ScenarioPlayer:
    """Plays a scenario's actions in time order against a running sandbox (and the bridge behind it).

    Staff see people only by pseudonym, so the player finds a person's queue card, topic and alerts by the
    pseudonym the bridge gives them (`pseudonym_of`, from the bridge's own key).
    """

    def __init__(
        self,
        sandbox: TelegramSandbox,
        staff_chat: int,
        escalation_chat: int,
        staff: Mapping[str, User],
        pseudonym_of: Callable[[Platform, int], str],
        *,
        speed: float = 1.0,
        step_timeout: float = 120.0,
        discord: DiscordSandbox | None = None,
    ) -> None:
        self._sandbox = sandbox
        self._staff_chat = staff_chat
        self._escalation_chat = escalation_chat
        self._staff = dict(staff)
        self._pseudonym_of = pseudonym_of
        self._speed = speed
        self._timeout = step_timeout
        self._discord = discord
        self._on_telegram: dict[str, User] = {}  # scripted people by name, on the platform they write on
        self._on_discord: dict[str, DiscordUser] = {}

    async def play(self, scenario: Scenario) -> PlayReport:
        """Start each step at its time; a step waiting for the bridge (a card, a topic) never holds up the next."""
        report = PlayReport()
        loop = asyncio.get_running_loop()
        start = loop.time()
        async with asyncio.TaskGroup() as group:
            for index, action in enumerate(scenario.actions, start=1):
                await asyncio.sleep(max(0.0, start + action.at / self._speed - loop.time()))
                group.create_task(self._step(scenario.name, index, action, report))
        log.info("scenario %s finished: %d steps played, %d skipped", scenario.name, report.done, report.skipped)
        return report

    async def _step(self, name: str, index: int, action: Action, report: PlayReport) -> None:
        try:
            await self._do(action)
            report.done += 1
        except (TimeoutError, SandboxError, DiscordSandboxError, KeyError) as exc:
            report.skipped += 1
            log.warning(
                "scenario %s: step %d (%s %s) skipped: %s", name, index, action.role, action.kind, type(exc).__name__
            )

    async def _do(self, action: Action) -> None:
        if action.kind == "say":
            self._say(action)
            return
        user = self._staff[action.actor]
        if action.kind == "next":
            self._sandbox.send_user_message(user, "/next", chat=self._staff_chat)
            return
        pseudonym = self._pseudonym_of(*self._who(action.target))
        if action.kind == "take":
            card = await self._wait(lambda m: self._take_data(m, pseudonym) is not None)
            data = str(self._take_data(card, pseudonym))
            self._sandbox.press_button(user, self._current(self._staff_chat, card.message_id), data)
        elif action.kind in ("reply", "end"):
            thread = await self._topic_of(pseudonym)
            text = action.text if action.kind == "reply" else "/end"
            self._sandbox.send_user_message(user, text, chat=self._staff_chat, thread=thread)
        else:
            alert = await self._wait(lambda m: self._ack_data(m, pseudonym) is not None)
            data = str(self._ack_data(alert, pseudonym))
            self._sandbox.press_button(user, self._current(self._escalation_chat, alert.message_id), data)

    def _say(self, action: Action) -> None:
        """The person writes to the bot on their platform (where they first wrote; created there then)."""
        name = action.actor
        if name in self._on_discord or (name not in self._on_telegram and action.platform == Platform.DISCORD):
            if self._discord is None:
                raise KeyError("no Discord sandbox")
            if name not in self._on_discord:
                self._on_discord[name] = self._discord.create_user(name)
            self._discord.send_dm(self._on_discord[name], action.text)
            return
        if name not in self._on_telegram:
            self._on_telegram[name] = self._sandbox.create_user(name, language_code="en")
        self._sandbox.send_user_message(self._on_telegram[name], action.text)

    def _who(self, name: str) -> tuple[Platform, int]:
        """Where a scripted person writes, and their user id there (KeyError if they never wrote)."""
        if name in self._on_discord:
            return Platform.DISCORD, int(self._on_discord[name].id)
        return Platform.TELEGRAM, self._on_telegram[name].id

    async def _wait(self, predicate: Callable[[Message], bool]) -> Message:
        return await self._sandbox.wait_for(predicate, self._timeout)

    def _take_data(self, message: Message, pseudonym: str) -> str | None:
        """ "take c-N" if `message` is this person's queue card (any version with a Take button)."""
        if message.chat_id != self._staff_chat or not message.text.startswith(f"{pseudonym} "):
            return None
        return next((d for _, d in message.buttons if d and _CONV.match(d)), None)

    def _ack_data(self, message: Message, pseudonym: str) -> str | None:
        """ "ack e-N" if `message` is a risk alert about this person."""
        if message.chat_id != self._escalation_chat or "RISK " not in message.text:
            return None
        if f" · {pseudonym} · " not in message.text.splitlines()[0]:
            return None
        return next((d for _, d in message.buttons if d and d.startswith("ack ")), None)

    def _current(self, chat: int, message_id: int) -> Message:
        found = [m for m in self._sandbox.transcript(chat) if m.message_id == message_id]
        if not found:
            raise KeyError("message")
        return found[0]

    async def _topic_of(self, pseudonym: str) -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        while loop.time() < deadline:
            for topic in reversed(self._sandbox.topics(self._staff_chat)):
                if topic.name.startswith(f"{pseudonym} · ") and not topic.closed:
                    return topic.thread_id
            await asyncio.sleep(0.1)
        raise TimeoutError("no topic for that person")
