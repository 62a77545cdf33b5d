"""`peerbridge check-config`: every problem with the configuration, in plain words, before anything runs."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot import keys_at_rest
from bot.services import load_resources, load_roster
from bot.settings import ConfigError, Settings, is_loopback, load_settings
from routing.coping.files import load_library as load_coping
from routing.model import Platform, Role
from routing.pseudonyms import Pseudonymiser
from routing.resources import ResourceFileError
from routing.risk.detector import RiskDetector
from routing.risk.model import ModelFileError
from routing.risk.phrases import PhraseFileError
from routing.roster import Roster, RosterError
from routing.rota import GapKind, Rota, RotaError, gaps, parse_rota
from routing.training.scenario_file import load_library
from routing.workspace import Workspace

_TOKEN_ENV = {Platform.TELEGRAM: "PEERBRIDGE_TELEGRAM__TOKEN", Platform.DISCORD: "PEERBRIDGE_DISCORD__TOKEN"}


def check(path: Path | None) -> tuple[Settings | None, list[str]]:
    """Validate settings and the files they point to; returns the settings (if valid) and the problems."""
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        return None, exc.problems
    return settings, _deeper_problems(settings)


def _deeper_problems(s: Settings) -> list[str]:
    problems: list[str] = []
    enabled = {Platform.TELEGRAM: s.telegram.enabled, Platform.DISCORD: s.discord.enabled}
    tokens = {Platform.TELEGRAM: s.telegram.token, Platform.DISCORD: s.discord.token}
    for platform, on in enabled.items():
        if on and tokens[platform] is None:
            problems.append(
                f"{platform} is enabled but has no token: set the environment variable {_TOKEN_ENV[platform]}"
            )
    if not any(enabled.values()):
        problems.append(
            "no platform is enabled: set telegram.enabled = true (and PEERBRIDGE_TELEGRAM__TOKEN) or "
            "discord.enabled = true (and PEERBRIDGE_DISCORD__TOKEN); docs/go-live.md shows how to get a token"
        )
    elif not enabled[s.staff.platform]:
        problems.append(f"staff.platform is {s.staff.platform}, but {s.staff.platform} is not enabled")
    problems += _staff_chat_problems(s)
    if s.telegram.enabled and s.telegram.mode == "webhook":
        if not s.telegram.webhook_url.startswith("https://"):
            problems.append("telegram.webhook_url must be an https:// address when telegram.mode is webhook")
        if s.telegram.webhook_secret is None:
            problems.append("telegram.mode is webhook but PEERBRIDGE_TELEGRAM__WEBHOOK_SECRET is not set")
    if s.escalation.webhook_url and s.escalation.webhook_secret is None:
        problems.append(
            "escalation.webhook_url is set but PEERBRIDGE_ESCALATION__WEBHOOK_SECRET is not (calls are signed)"
        )
    problems += _web_problems(s)
    problems += _file_problems(s)
    return problems


def _staff_chat_problems(s: Settings) -> list[str]:
    """The two staff chats must exist, differ, and be groups: alerts in the volunteers' chat, or a person's
    private chat taken for a group, would put staff words where they must not go."""
    staff = s.staff
    problems: list[str] = []
    if not staff.volunteer_chat:
        problems.append("staff.volunteer_chat is empty: set the id of the volunteers' private group or channel")
    if not staff.escalation_chat:
        problems.append("staff.escalation_chat is empty: set the id of the on-call professionals' chat")
    if staff.volunteer_chat and staff.volunteer_chat == staff.escalation_chat:
        problems.append(
            "staff.volunteer_chat and staff.escalation_chat are the same chat: alerts need a chat of their own "
            "that the on-call professionals watch"
        )
    if staff.platform == Platform.TELEGRAM:
        for name, chat in (("volunteer_chat", staff.volunteer_chat), ("escalation_chat", staff.escalation_chat)):
            if chat and not chat.startswith("-"):
                problems.append(
                    f"staff.{name} is {chat}, a person's id: Telegram group ids are negative (a forum supergroup's "
                    "start with -100); docs/go-live.md shows how to find them"
                )
    return problems


def warnings_for(s: Settings) -> list[str]:
    """What works but is risky: no rota file, or no on-call professional in the next 24 hours."""
    path = s.rota.file
    if not path.exists():
        return [
            f"no rota file at {path}: nobody is paged privately on risk (alerts go only to the escalation chat), "
            "and there are no roles, shifts or on-call cover (copy config/rota.example.toml)"
        ]
    rota = read_rota(path)
    if rota is None:
        return []  # reported as a problem already
    now = datetime.now(UTC)
    uncovered = [g for g in gaps(rota, now, now + timedelta(hours=24)) if g.kind == GapKind.NO_ONCALL]
    if not uncovered:
        return []
    first = uncovered[0]
    return [
        f"no on-call professional in the rota from {first.start:%a %H:%M} to {first.end:%a %H:%M} UTC (and "
        f"{len(uncovered) - 1} more gap(s) in the next 24 h): risk alerts then page every professional at once"
    ]


def read_rota(path: Path) -> Rota | None:
    """The rota file, or None when it is missing or broken (check() names what is wrong)."""
    try:
        with open(path, "rb") as f:
            return parse_rota(tomllib.load(f))
    except (RotaError, tomllib.TOMLDecodeError, OSError):
        return None


def _web_problems(s: Settings) -> list[str]:
    """Sign-in links must reach staff, and must not cross a network unencrypted."""
    web = s.web
    if not web.public_url and not is_loopback(web.host):
        return [
            f"web.host is {web.host}, so staff reach the dashboard from other machines, but web.public_url is "
            f"empty: /dashboard sign-in links would point at {web.link_base}. Set web.public_url to the https:// "
            "address staff open (for example https://peerbridge.example.org)"
        ]
    if web.public_url.startswith("http://") and not web.public_is_local:
        return [
            f"web.public_url {web.public_url} is not encrypted: sign-in links and dashboard sessions would cross "
            "the network in clear text. Use an https:// address (TLS at a reverse proxy in front of peerbridge)"
        ]
    return []


def _reachable_problems(s: Settings, roster: Roster) -> list[str]:
    """With a rota, someone must be reachable on the staff platform to be paged: a professional, and a
    coordinator (the last level of the chain, and who fixes the rota's gaps)."""
    if not s.rota.file.exists():
        return []  # a warning instead: see warnings_for
    problems = []
    for role, who in ((Role.PROFESSIONAL, "professional"), (Role.COORDINATOR, "coordinator")):
        if not any(m.has(role) and s.staff.platform in m.identities for m in roster.members):
            problems.append(
                f"the rota ({s.rota.file}) has no {who} with a {s.staff.platform} account "
                f"({s.staff.platform.value} = <user id>) while staff work on {s.staff.platform}: nobody could be "
                f"paged as {who}"
            )
    return problems


def _workspace_problems(s: Settings, roster: Roster) -> list[str]:
    """A private workspace reaches volunteers by the Telegram accounts the rota names: without them nobody
    would get their people's messages."""
    if s.staff.workspace != Workspace.PRIVATE:
        return []
    if s.staff.platform != Platform.TELEGRAM:
        return [
            f'staff.workspace = "private" works with staff on Telegram; staff.platform is {s.staff.platform} '
            '(Discord threads have no group-wide limit: use "topics")'
        ]
    named = [m for m in roster.members if Platform.TELEGRAM in m.identities]
    if not named:
        return [
            f'staff.workspace = "private" needs the rota file ({s.rota.file}) to name each volunteer\'s Telegram '
            "account (telegram = <user id> in their [[staff]] entry): it names none, so nobody would get their "
            "people's messages"
        ]
    return []


def _file_problems(s: Settings) -> list[str]:
    problems: list[str] = []
    try:
        RiskDetector.from_directory(s.risk.phrases_dir, s.risk.model)
    except PhraseFileError as exc:
        problems.append(f"risk phrase file problem: {exc}")
    except ModelFileError as exc:
        problems.append(f"risk model problem: {exc} (or set risk.use_model = false)")
    except OSError as exc:
        name = exc.filename or s.risk.phrases_dir
        problems.append(f"risk file {name} cannot be read: {exc.strerror}")
    try:
        roster = load_roster(s.rota.file, Pseudonymiser(b"check-config-only-secret"))
        problems += _workspace_problems(s, roster) + _reachable_problems(s, roster)
    except (RosterError, tomllib.TOMLDecodeError, OSError) as exc:
        problems.append(f"rota file {s.rota.file}: {exc}")
    try:
        load_resources(s.escalation.resources_dir)
    except (ResourceFileError, OSError) as exc:
        problems.append(f"crisis resources in {s.escalation.resources_dir}: {exc}")
    problems += [f"training scenario {problem}" for problem in load_library(s.training.scenarios_dir).problems.values()]
    problems += [f"coping text {problem}" for problem in load_coping(s.coping.dir).problems.values()]
    if s.security.encryption_key is not None:
        try:
            keys_at_rest.encryption_keys(s.security.encryption_key, s.security.previous_encryption_keys, Path("."))
        except ValueError as exc:
            problems.append(f"PEERBRIDGE_SECURITY__ENCRYPTION_KEY: {exc}")
    return problems
