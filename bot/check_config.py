"""`peerbridge check-config`: every problem with the configuration, in plain words, before anything runs."""

from __future__ import annotations

import tomllib
from pathlib import Path

from bot import keys_at_rest
from bot.services import load_resources, load_roster
from bot.settings import ConfigError, Settings, is_loopback, load_settings
from routing.model import Platform
from routing.pseudonyms import Pseudonymiser
from routing.resources import ResourceFileError
from routing.risk.detector import RiskDetector
from routing.risk.phrases import PhraseFileError
from routing.roster import Roster, RosterError
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
    if any(enabled.values()):
        if not enabled[s.staff.platform]:
            problems.append(f"staff.platform is {s.staff.platform}, but {s.staff.platform} is not enabled")
        if not s.staff.volunteer_chat:
            problems.append("staff.volunteer_chat is empty: set the id of the volunteers' private group or channel")
        if not s.staff.escalation_chat:
            problems.append("staff.escalation_chat is empty: set the id of the on-call professionals' chat")
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
        RiskDetector.from_directory(s.risk.phrases_dir)
    except PhraseFileError as exc:
        problems.append(f"risk phrase file problem: {exc}")
    except OSError as exc:
        problems.append(f"risk.phrases_dir {s.risk.phrases_dir} cannot be read: {exc.strerror}")
    try:
        roster = load_roster(s.rota.file, Pseudonymiser(b"check-config-only-secret"))
        problems += _workspace_problems(s, roster)
    except (RosterError, tomllib.TOMLDecodeError, OSError) as exc:
        problems.append(f"rota file {s.rota.file}: {exc}")
    try:
        load_resources(s.escalation.resources_dir)
    except (ResourceFileError, OSError) as exc:
        problems.append(f"crisis resources in {s.escalation.resources_dir}: {exc}")
    problems += [f"training scenario {problem}" for problem in load_library(s.training.scenarios_dir).problems.values()]
    if s.security.encryption_key is not None:
        try:
            keys_at_rest.encryption_keys(s.security.encryption_key, s.security.previous_encryption_keys, Path("."))
        except ValueError as exc:
            problems.append(f"PEERBRIDGE_SECURITY__ENCRYPTION_KEY: {exc}")
    return problems
