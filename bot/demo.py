"""`peerbridge demo`: the whole bridge on this machine, with no bot tokens and no internet.

Starts an embedded Redis, the Telegram sandbox (a local Bot API server that is part of peerbridge), and the
bridge talking to it through the real python-telegram-bot, with a person, a volunteer, a forum group for
volunteers and an on-call chat already set up. `--scenario` plays a short scripted evening.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from adapters.telegram.sandbox import TelegramSandbox
from bot.app import ProcessRole, run
from bot.settings import Settings

log = logging.getLogger(__name__)

DEMO_TOKEN = "100001:peerbridge-demo-token"  # noqa: S105 - only valid against the local sandbox


@dataclass(frozen=True, slots=True)
class DemoWorld:
    sandbox: TelegramSandbox
    person_id: int
    volunteer_id: int
    staff_chat: int
    escalation_chat: int


def _build_world(sandbox: TelegramSandbox) -> DemoWorld:
    person = sandbox.create_user("Demo person")
    volunteer = sandbox.create_user("Demo volunteer")
    staff = sandbox.create_forum_group("Volunteers (demo)", members=[volunteer])
    alerts = sandbox.create_group("On-call professionals (demo)", members=[volunteer])
    return DemoWorld(sandbox, person.id, volunteer.id, staff.id, alerts.id)


def _settings(world: DemoWorld, data_dir: Path, web_port: int) -> Settings:
    return Settings.model_validate(
        {
            "storage": {"dir": str(data_dir)},
            "telegram": {"enabled": True, "token": DEMO_TOKEN, "api_url": world.sandbox.url},
            "staff": {
                "platform": "telegram",
                "volunteer_chat": str(world.staff_chat),
                "escalation_chat": str(world.escalation_chat),
            },
            "web": {"port": web_port},
        }
    )


def _instructions(world: DemoWorld, web_port: int) -> str:
    api = world.sandbox.url
    return f"""
peerbridge demo is running — no tokens, no internet; everything is on this machine.

  Telegram sandbox (local Bot API):   {api}
  Bridge health:                      http://127.0.0.1:{web_port}/readyz

Write as the person (id {world.person_id}):
  curl -s {api}/_sandbox/messages -H 'Content-Type: application/json' \\
       -d '{{"user_id": {world.person_id}, "text": "hi, I could use someone to talk to"}}'
See what the bot sent to the volunteers' forum group ({world.staff_chat}), including the queue card:
  curl -s '{api}/_sandbox/sent?chat_id={world.staff_chat}'
Take the person as the volunteer: send /next in the group ({world.staff_chat}):
  curl -s {api}/_sandbox/messages -H 'Content-Type: application/json' \\
       -d '{{"user_id": {world.volunteer_id}, "chat_id": {world.staff_chat}, "text": "/next"}}'
Risk alerts arrive in the on-call chat ({world.escalation_chat}).  Ctrl-C stops everything.
"""


async def run_demo(data_dir: Path, port: int, web_port: int, stop: asyncio.Event) -> None:
    """Run the sandbox and the bridge until `stop` is set."""
    sandbox = TelegramSandbox(tokens=[DEMO_TOKEN])
    await sandbox.start(host="127.0.0.1", port=port)
    try:
        world = _build_world(sandbox)
        print(_instructions(world, web_port), flush=True)
        await run(_settings(world, data_dir, web_port), ProcessRole.ALL, stop, name="demo")
    finally:
        await sandbox.stop()
