"""`peerbridge demo`: the whole bridge on this machine, with no bot tokens and no internet.

Starts an embedded Redis, both platform sandboxes (a local Telegram Bot API server and a local Discord REST +
gateway server, both part of peerbridge), the bridge talking to them through the real python-telegram-bot and
discord.py, and the sandbox chat page (`bot.demo_page`): a person's phone (Telegram or Discord, the newcomer
chooses) and the volunteers' workspace in one browser page. A person on each platform, a volunteer, an on-call
professional, a Telegram forum group for volunteers and an on-call chat are already set up: the volunteers
work in Telegram and serve people from both platforms. `--scenario` plays scripted people (on either platform)
and volunteers (`bot/shipped/scenarios/<name>.toml`) so the queue and the dashboard have life.

The page has its own port (`--page-port`, default 8082) rather than living in the bridge's web server: it
forwards calls to the sandbox, and that must never be part of what `peerbridge run` serves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot import keys_at_rest
from bot.app import ProcessRole, run
from bot.demo_page.forwarder import DemoChats
from bot.demo_page.scenarios import Scenario, ScenarioPlayer
from bot.demo_page.server import DemoNames, DemoPage
from bot.settings import Settings
from routing.model import Platform, UserId
from routing.pseudonyms import Pseudonymiser
from sandboxes.discord import DiscordSandbox
from sandboxes.telegram import TelegramSandbox, User

log = logging.getLogger(__name__)

DEMO_TOKEN = "100001:peerbridge-demo-token"  # noqa: S105 - only valid against the local sandbox
DEMO_DISCORD_TOKEN = "peerbridge-demo-discord-token"  # noqa: S105 - only valid against the local sandbox
PERSON, VOLUNTEER, PROFESSIONAL = "Alex", "Jo", "Dr Rivera"
SUPERVISOR, COORDINATOR = "Sam", "Kim"  # the page's role switch: who watches conversations, who runs the rota
STATE_MARKER = ".peerbridge-demo"
DEMO_CAPACITY = 5


@dataclass(frozen=True, slots=True)
class DemoWorld:
    sandbox: TelegramSandbox
    person_id: int
    volunteer_id: int
    professional_id: int
    staff_chat: int
    escalation_chat: int
    staff: dict[str, User]  # by name: the volunteers and professionals (the newcomer's and the scenario's)
    professionals: frozenset[str]
    discord: DiscordSandbox | None = None
    discord_person_id: int | None = None  # the demo person's own account on Discord
    supervisor_id: int | None = None
    coordinator_id: int | None = None

    @property
    def chats(self) -> DemoChats:
        return DemoChats(
            self.person_id, self.volunteer_id, self.professional_id, self.staff_chat, self.escalation_chat,
            self.discord_person_id, self.supervisor_id, self.coordinator_id,
        )  # fmt: skip


def build_world(
    sandbox: TelegramSandbox, scenario: Scenario | None = None, discord: DiscordSandbox | None = None
) -> DemoWorld:
    """The demo's people and chats, plus the staff a scenario plays; with `discord`, the person there too."""
    person = sandbox.create_user(PERSON, language_code="en")
    volunteer = sandbox.create_user(VOLUNTEER)
    professional = sandbox.create_user(PROFESSIONAL)
    supervisor, coordinator = sandbox.create_user(SUPERVISOR), sandbox.create_user(COORDINATOR)
    staff = {VOLUNTEER: volunteer, PROFESSIONAL: professional, SUPERVISOR: supervisor, COORDINATOR: coordinator}
    professionals = {PROFESSIONAL}
    for role in ("volunteer", "professional"):
        for name in scenario.staff(role) if scenario else []:
            staff.setdefault(name, sandbox.create_user(name))
            if role == "professional":
                professionals.add(name)
    # The staff the newcomer plays have a private chat with the bot open (staff open it once, with /start), so
    # the private sign-in link that /dashboard sends, and a page, can reach them: Telegram never lets a bot
    # write first.
    for played in (volunteer, professional, supervisor, coordinator):
        sandbox.block_bot(played, blocked=False)
    group = sandbox.create_forum_group("Volunteers (demo)", members=[*staff.values()])
    alerts = sandbox.create_group("On-call professionals (demo)", members=[*staff.values()])
    discord_person = discord.create_user(PERSON) if discord is not None else None
    return DemoWorld(
        sandbox, person.id, volunteer.id, professional.id, group.id, alerts.id, staff, frozenset(professionals),
        discord, int(discord_person.id) if discord_person is not None else None, supervisor.id, coordinator.id,
    )  # fmt: skip


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "staff"


def rota_toml(world: DemoWorld) -> str:
    """A rota file naming the demo's staff, so names and roles show (professionals may take over)."""
    lines = ['timezone = "UTC"', ""]
    for name, user in world.staff.items():
        lines += ["[[staff]]", f'id = "{_slug(name)}"', f"name = {json.dumps(name)}", f"telegram = {user.id}"]
        if name in world.professionals:
            lines += ['roles = ["professional"]', "max_concurrent = 2"]
        elif name in (SUPERVISOR, COORDINATOR):
            lines += [f'roles = ["{"supervisor" if name == SUPERVISOR else "coordinator"}"]', 'languages = ["en"]']
        else:
            lines += ['languages = ["en"]', f"max_concurrent = {DEMO_CAPACITY}"]
        lines.append("")
    return "\n".join(lines)


def fresh_state_dir(data_dir: Path) -> Path:
    """`<data>/run`, emptied: the sandbox starts empty every time, so Redis must too (stale queue cards and
    topic ids would point at messages that no longer exist). Only a directory the demo made is ever removed."""
    state = data_dir / "run"
    if state.exists():
        if not (state / STATE_MARKER).exists():
            raise SystemExit(f"{state} exists but was not made by peerbridge demo; pass another --data directory")
        shutil.rmtree(state)
    state.mkdir(parents=True)
    (state / STATE_MARKER).write_text("made by peerbridge demo; emptied at every start\n")
    return state


def pseudonyms_for(settings: Settings) -> Callable[[Platform, int], str]:
    """The pseudonym the bridge gives a user of a platform (a scenario finds its people's cards and topics by it).

    Call it before the bridge starts: it creates the demo's pseudonym secret if there is none yet."""
    secret = keys_at_rest.pseudonym_secret(settings.security.pseudonym_secret, settings.storage.dir)
    pseudonyms = Pseudonymiser(secret)
    return lambda platform, user_id: pseudonyms.alias(platform, UserId(str(user_id)))


def discord_settings(box: DiscordSandbox, token: str = DEMO_DISCORD_TOKEN) -> dict[str, object]:
    """The bridge's [discord] section for a local Discord sandbox."""
    return {"enabled": True, "token": token, "api_url": box.api_url, "gateway_url": box.gateway_url}


def demo_settings(world: DemoWorld, state_dir: Path, web_port: int) -> Settings:
    data: dict[str, object] = {
        "storage": {"dir": str(state_dir)},
        "telegram": {"enabled": True, "token": DEMO_TOKEN, "api_url": world.sandbox.url},
        "staff": {
            "platform": "telegram",
            "volunteer_chat": str(world.staff_chat),
            "escalation_chat": str(world.escalation_chat),
        },
        "rota": {"file": str(state_dir / "rota.toml")},
        "web": {"port": web_port},
    }
    if world.discord is not None:
        data["discord"] = discord_settings(world.discord)
    return Settings.model_validate(data)


def instructions(world: DemoWorld, page_url: str, web_port: int, scenario: Scenario | None) -> str:
    api = world.sandbox.url
    playing = f"\n  Playing the scenario: {scenario.title}. {scenario.summary}\n" if scenario else ""
    discord_line = discord_curl = ""
    if world.discord is not None:
        discord_line = f"\n  Discord sandbox (REST, gateway):    {world.discord.url}"
        discord_curl = f"""Or write as the person on Discord (user {world.discord_person_id}; the bot answers in DMs):
  curl -s {world.discord.url}/_sandbox/dms -H 'Content-Type: application/json' \\
       -d '{{"user_id": "{world.discord_person_id}", "content": "hi from Discord"}}'
"""
    return f"""
peerbridge demo is running — no tokens, no internet; everything is on this machine.

  ▶ Open the sandbox chat page:       {page_url}
    ({PERSON}'s phone on one side, the volunteers' workspace and the on-call chat on the other)
{playing}
  Telegram sandbox (local Bot API):   {api}{discord_line}
  Bridge health:                      http://127.0.0.1:{web_port}/readyz
  Dashboard:                          send /dashboard on the page as {VOLUNTEER}, {SUPERVISOR} (supervisor) or
                                      {COORDINATOR} (coordinator: rota, volunteers, training); it arrives privately

Or drive it with curl. Write as the person (id {world.person_id}):
  curl -s {api}/_sandbox/messages -H 'Content-Type: application/json' \\
       -d '{{"user_id": {world.person_id}, "text": "hi, I could use someone to talk to"}}'
See what the bot sent to the volunteers' forum group ({world.staff_chat}), including the queue card:
  curl -s '{api}/_sandbox/sent?chat_id={world.staff_chat}'
Take the person as the volunteer: send /next in the group ({world.staff_chat}):
  curl -s {api}/_sandbox/messages -H 'Content-Type: application/json' \\
       -d '{{"user_id": {world.volunteer_id}, "chat_id": {world.staff_chat}, "text": "/next"}}'
{discord_curl}Risk alerts arrive in the on-call chat ({world.escalation_chat}).  Ctrl-C stops everything.
"""


def bridge_connected(world: DemoWorld) -> bool:
    """The bridge talks to the Telegram sandbox and, when there is one, holds a Discord gateway session.

    (Telegram updates wait in the sandbox until the bridge fetches them, but Discord, like the real one, only
    dispatches events to a connected bot.)"""
    discord_ok = world.discord is None or world.discord.gateway_stats().identifies > 0
    return bool(world.sandbox.call_counts()) and discord_ok


async def play_when_ready(
    world: DemoWorld, scenario: Scenario, pseudonym_of: Callable[[Platform, int], str], ready_timeout: float = 30
) -> None:
    """Wait until the bridge talks to the sandboxes, then play the scenario; a failure is logged, never fatal."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ready_timeout
    while not bridge_connected(world):
        if loop.time() > deadline:
            log.warning("scenario %s not played: the bridge did not connect to the sandboxes", scenario.name)
            return
        await asyncio.sleep(0.1)
    player = ScenarioPlayer(
        world.sandbox, world.staff_chat, world.escalation_chat, world.staff, pseudonym_of, discord=world.discord
    )
    try:
        await player.play(scenario)
    except Exception:
        log.exception("scenario %s stopped", scenario.name)


async def run_demo(
    data_dir: Path,
    port: int,
    web_port: int,
    stop: asyncio.Event,
    *,
    page_port: int = 8082,
    scenario: Scenario | None = None,
    discord_port: int = 0,
) -> None:
    """Run both sandboxes, the page and the bridge until `stop` is set (`discord_port` 0: any free port)."""
    state_dir = fresh_state_dir(data_dir)
    sandbox = TelegramSandbox(tokens=[DEMO_TOKEN])
    await sandbox.start(host="127.0.0.1", port=port)
    discord = DiscordSandbox(tokens=[DEMO_DISCORD_TOKEN], bot_names=["peerbridge"])
    page: DemoPage | None = None
    player: asyncio.Task[None] | None = None
    try:
        await discord.start(host="127.0.0.1", port=discord_port)
        world = build_world(sandbox, scenario, discord)
        (state_dir / "rota.toml").write_text(rota_toml(world))
        names = DemoNames(PERSON, VOLUNTEER, PROFESSIONAL, scenario.title if scenario else "", SUPERVISOR, COORDINATOR)
        page = DemoPage(sandbox.url, world.chats, names, discord_url=discord.url)
        url = await page.start(page_port)
        print(instructions(world, url, web_port, scenario), flush=True)
        settings = demo_settings(world, state_dir, web_port)
        if scenario is not None:
            task = play_when_ready(world, scenario, pseudonyms_for(settings))
            player = asyncio.create_task(task, name="scenario")
        await run(settings, ProcessRole.ALL, stop, name="demo")
    finally:
        if player is not None:
            player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await player
        # Together: each gives its open requests (a browser's long polls) up to a second, and one after the
        # other they added up to seconds of Ctrl-C.
        stopping = [discord.stop(), sandbox.stop()] + ([page.stop()] if page is not None else [])
        await asyncio.gather(*stopping)
        log.info("demo stopped")
