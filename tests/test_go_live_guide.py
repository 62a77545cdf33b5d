"""docs/go-live.md, followed literally for Telegram, with the Telegram sandbox standing in for Telegram.

A coordinator copies the example files, edits the lines the guide names, finds the chat and user ids with
`peerbridge chat-ids` and `/chatid`, checks with `check-config` and `doctor` until both are happy, imports the rota,
runs peerbridge and holds the guide's test conversation. Every command is the real CLI in its own process, run
from the coordinator's folder. The only lines changed that the guide does not mention: `telegram.api_url` (the
sandbox instead of api.telegram.org) and `web.port` (a free port instead of 8080, which a test machine may use).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from bot.embedded_redis import free_port
from sandboxes.discord import BotAccount, Channel, DiscordSandbox, Permission
from sandboxes.discord import User as DiscordUser
from sandboxes.telegram import Message, TelegramSandbox, User
from tests.discord_fixtures import running_sandbox

pytest_plugins = ["tests.telegram_fixtures"]
BOT_TOKEN = "123456:sandbox-test-token"  # the first bot of the `sandbox` fixture
DISCORD_TOKEN = "discord-guide-bot-token"
pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parent.parent
GROUP_ID = re.compile(r"This group's id: (-\d+)")
USER_ID = re.compile(r"Your Telegram user id: (\d+)")


class Coordinator:
    """The person following the guide: a folder, an environment, a terminal."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PEERBRIDGE_")}
        self.env["PYTHONPATH"] = str(ROOT)  # `.venv/bin/peerbridge` of the checkout

    async def start(self, *args: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=self.home, env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip

    async def run(self, *args: str) -> tuple[int, str]:
        process = await self.start(*args)
        out, _ = await process.communicate()
        return process.returncode or 0, out.decode()

    def edit(self, file: str, old: str, new: str) -> None:
        """Change one line, as in a text editor; the line must be there exactly once."""
        path = self.home / file
        text = path.read_text()
        assert text.count(old) == 1, f"{old!r} is not in {file} once"
        path.write_text(text.replace(old, new))


async def _until(check: Callable[[], bool], seconds: float = 20) -> None:
    async with asyncio.timeout(seconds):
        while not check():  # noqa: ASYNC110 - the sandbox is in this process
            await asyncio.sleep(0.05)


def _said(box: TelegramSandbox, chat: int, needle: str) -> Message | None:
    return next((m for m in reversed(box.sent(chat)) if needle in m.body), None)


async def test_the_go_live_guide_works_as_written_for_telegram(sandbox: TelegramSandbox, tmp_path: Path) -> None:
    me = Coordinator(tmp_path / "peerbridge")
    # 1. Install and make your configuration.
    (me.home / "config").mkdir(parents=True)
    shutil.copy(ROOT / "config" / "peerbridge.example.toml", me.home / "config" / "peerbridge.toml")
    shutil.copy(ROOT / "config" / "rota.example.toml", me.home / "config" / "rota.toml")
    code, out = await me.run("check-config")
    assert code == 2 and "no platform is enabled" in out and "staff.volunteer_chat is empty" in out

    # 2. Telegram: the bot (the sandbox's token stands for BotFather's), enabled = true.
    me.env["PEERBRIDGE_TELEGRAM__TOKEN"] = BOT_TOKEN
    me.edit("config/peerbridge.toml", "[telegram]\nenabled = false", "[telegram]\nenabled = true")
    me.edit("config/peerbridge.toml", 'api_url = "https://api.telegram.org"', f'api_url = "{sandbox.url}"')
    me.edit("config/peerbridge.toml", "port = 8080", f"port = {free_port()}")
    # 5-6. The volunteers' forum (the bot an administrator with Manage topics) and the on-call group.
    staff = {name: sandbox.create_user(name) for name in ("Ana", "Ben", "Sam", "Lee", "Kim")}
    volunteers = sandbox.create_forum_group("Volunteers", members=staff.values(), bots=[BOT_TOKEN])
    on_call = sandbox.create_group("On call", members=[staff["Lee"], staff["Kim"]], bots=[BOT_TOKEN])

    # 7-8. Find the ids: `peerbridge chat-ids`, then /chatid in each group, by everyone in the volunteers' one.
    finder = await me.start("chat-ids")
    assert finder.stdout is not None
    async with asyncio.timeout(30):
        assert b"answers /chatid" in await finder.stdout.readline()
    ids: dict[str, int] = {}
    for name, user in staff.items():
        sandbox.send_user_message(user, "/chatid", chat=volunteers)
        answer = await _answer(sandbox, volunteers.id, user)
        ids[name] = int(USER_ID.search(answer).group(1))  # type: ignore[union-attr]
        group_id = int(GROUP_ID.search(answer).group(1))  # type: ignore[union-attr]
    sandbox.send_user_message(staff["Lee"], "/chatid", chat=on_call)
    alerts_id = int(GROUP_ID.search(await _answer(sandbox, on_call.id, staff["Lee"])).group(1))  # type: ignore[union-attr]
    finder.send_signal(signal.SIGINT)
    printed = (await finder.communicate())[0].decode()
    assert finder.returncode == 0 and f"id {group_id}" in printed and f"id {alerts_id}" in printed
    assert (group_id, alerts_id) == (volunteers.id, on_call.id)
    me.edit("config/peerbridge.toml", 'volunteer_chat = ""', f'volunteer_chat = "{group_id}"')
    me.edit("config/peerbridge.toml", 'escalation_chat = ""', f'escalation_chat = "{alerts_id}"')

    # 10. The rota: everyone's user id from step 8 (Dr Kim, Discord-only in the example, gets one too).
    for placeholder, name in (("111111111", "Ana"), ("444444444", "Ben"), ("222222222", "Sam"), ("333333333", "Lee")):
        me.edit("config/rota.toml", f"telegram = {placeholder}", f"telegram = {ids[name]}")
    me.edit("config/rota.toml", 'name = "Dr Kim"\n', f'name = "Dr Kim"\ntelegram = {ids["Kim"]}\n')

    # 11. check-config until OK; then the doctor, which finds what only Telegram knows.
    code, out = await me.run("check-config")
    assert code == 0 and "Configuration OK" in out, out
    assert "Risk screening covers: en, es, fr, pt (phrase files and the risk model)." in out
    assert "People are also served in" not in out  # every language people are served in is screened
    code, out = await me.run("doctor")
    assert code == 1 and "the bot cannot write to sam, dr-lee, dr-kim (rota ids)" in out, out
    for user in staff.values():  # step 9: everyone on the rota opens a private chat with the bot
        sandbox.send_user_message(user, "/start")
    code, out = await me.run("doctor")
    assert code == 0 and "Everything the platforms were asked about is ready." in out, out

    # 12. Load the rota into the live store.
    code, out = await me.run("rota", "import")
    assert code == 0 and "Imported the rota as version" in out, out

    # 13-15. Run it and hold the test conversation.
    bridge = await me.start("run")
    try:
        await _ready(me)
        await _test_conversation(sandbox, staff, volunteers.id, on_call.id)
    finally:
        bridge.send_signal(signal.SIGINT)
        async with asyncio.timeout(15):
            log = (await bridge.communicate())[0].decode()
    assert bridge.returncode == 0, log[-3000:]
    assert "Traceback" not in log and BOT_TOKEN not in log


async def _answer(box: TelegramSandbox, chat: int, user: User) -> str:
    found: list[str] = []

    def answered() -> bool:
        found[:] = [m.body for m in box.sent(chat) if f"Your Telegram user id: {user.id}" in m.body]
        return bool(found)

    await _until(answered)
    return found[-1]


async def _ready(me: Coordinator, platforms: dict[str, bool] | None = None) -> None:
    port = next(line.split("=")[1].strip() for line in (me.home / "config" / "peerbridge.toml").read_text().splitlines()
                if line.startswith("port = "))  # fmt: skip
    async with aiohttp.ClientSession() as http, asyncio.timeout(30):
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                    wanted = platforms or {"telegram": True}
                    if response.status == 200 and (await response.json())["platforms"] == wanted:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)


async def _test_conversation(box: TelegramSandbox, staff: dict[str, User], group: int, alerts: int) -> None:
    person = box.create_user("Tester", language_code="en")
    box.send_user_message(person, "hello, this is a test")
    # The example rota has shifts: in hours they are told their queue place, out of hours when volunteers are back.
    await _until(lambda: any(_said(box, person.id, said) is not None for said in ("in the queue", "not on shift")))
    box.send_user_message(staff["Ana"], "/next", chat=group)
    await _until(lambda: _said(box, person.id, "A volunteer has joined") is not None)
    topic = box.topics(group)[-1]
    box.send_user_message(staff["Ana"], "Hi, I'm Ana. This is our test.", chat=group, thread=topic)
    await _until(lambda: _said(box, person.id, "I'm Ana. This is our test.") is not None)

    box.send_user_message(person, "I want to kill myself tonight")
    await _until(lambda: _said(box, alerts, "RISK") is not None)  # the escalation chat's alert
    paged = [u for name, u in staff.items() if name in ("Lee", "Kim")]
    await _until(lambda: any(_said(box, p.id, "RISK") is not None for p in paged))  # the on-call, privately
    on_call, page = next((p, m) for p in paged if (m := _said(box, p.id, "RISK")) is not None)
    await _until(lambda: _said(box, person.id, "You matter") is not None)  # crisis resources, at once
    rows = (page.reply_markup or {}).get("inline_keyboard", [])
    ack = next(b["callback_data"] for row in rows for b in row if "Acknowledge" in b["text"])
    box.press_button(on_call, page, ack)
    await _until(lambda: _said(box, alerts, "Acknowledged by") is not None)

    box.send_user_message(staff["Ana"], "/end confirm test conversation", chat=group, thread=topic)
    await _until(lambda: any("ended" in m.body.lower() for m in box.sent(group, topic)))
    box.send_user_message(staff["Sam"], "/dashboard", chat=group)
    await _until(lambda: _said(box, staff["Sam"].id, "/dashboard/signin?token=") is not None)


def test_the_guide_s_discord_invite_asks_for_exactly_what_the_doctor_checks() -> None:
    """The permissions integer in the guide's invite URL is the set the bot needs in the volunteers' channel (the
    doctor's list), no more: a coordinator who uses the link passes the doctor's permission check."""
    import discord

    from bot.doctor import DISCORD_ALERT_PERMISSIONS, DISCORD_VOLUNTEER_PERMISSIONS

    guide = (ROOT / "docs" / "go-live.md").read_text()
    found = re.search(r"oauth2/authorize\?client_id=APP_ID&scope=bot%20applications\.commands&permissions=(\d+)", guide)
    assert found is not None
    granted = {name for name, on in discord.Permissions(int(found.group(1))) if on}
    aliases = {"read_messages": "view_channel"}  # discord.py names one flag both ways
    granted = {aliases.get(name, name) for name in granted}
    assert granted == set(DISCORD_VOLUNTEER_PERMISSIONS)
    assert set(DISCORD_ALERT_PERMISSIONS) <= granted


async def test_the_go_live_guide_works_as_written_for_discord(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    me = Coordinator(tmp_path / "peerbridge")
    (me.home / "config").mkdir(parents=True)
    shutil.copy(ROOT / "config" / "peerbridge.example.toml", me.home / "config" / "peerbridge.toml")
    shutil.copy(ROOT / "config" / "rota.example.toml", me.home / "config" / "rota.toml")
    async with running_sandbox(monkeypatch) as box:
        # 3.1 The application's token and its Message Content intent (on); 3.2 the invite (the bot joins).
        bot = box.add_bot(DISCORD_TOKEN, "Riverside Peer Support")
        me.env["PEERBRIDGE_DISCORD__TOKEN"] = DISCORD_TOKEN
        owner = box.create_user("Sam")
        guild = box.create_guild("Riverside", owner=owner)
        # 3.3 A private channel for volunteers, another for on-call professionals.
        volunteer_role = box.create_role(guild, "volunteers")
        pro_role = box.create_role(guild, "on call")
        staff = {"Sam": owner} | {name: box.create_user(name) for name in ("Ana", "Ben", "Lee", "Kim")}
        for name, user in staff.items():
            roles = [pro_role] if name in ("Lee", "Kim") else [volunteer_role]
            if name != "Sam":
                box.add_member(guild, user, roles)
        volunteers = box.create_text_channel(guild, "volunteers", visible_to=[volunteer_role])
        on_call = box.create_text_channel(guild, "on-call", visible_to=[pro_role])
        # 3.4 Copy the channel and user ids; [discord] enabled, [staff] platform = "discord".
        config = "config/peerbridge.toml"
        me.edit(config, "[discord]\nenabled = false", "[discord]\nenabled = true")
        me.edit(config, 'api_url = "https://discord.com/api/v10"', f'api_url = "{box.api_url}"')
        me.edit(config, 'gateway_url = "wss://gateway.discord.gg"', f'gateway_url = "{box.gateway_url}"')
        me.edit(config, 'platform = "telegram"', 'platform = "discord"')
        me.edit(config, 'volunteer_chat = ""', f'volunteer_chat = "{volunteers.id}"')
        me.edit(config, 'escalation_chat = ""', f'escalation_chat = "{on_call.id}"')
        me.edit(config, "port = 8080", f"port = {free_port()}")
        # 4.10 The rota: each person's Discord user id.
        rota = "config/rota.toml"
        for old, name in (('name = "Ana"\n', "Ana"), ('name = "Ben"\n', "Ben"), ('name = "Dr Lee"\n', "Lee")):
            me.edit(rota, old, f'{old}discord = "{staff[name].id}"\n')
        me.edit(rota, 'discord = "222222222222222222"', f'discord = "{owner.id}"')
        me.edit(rota, 'discord = "555555555555555555"', f'discord = "{staff["Kim"].id}"')

        code, out = await me.run("check-config")
        assert code == 0 and "Configuration OK" in out, out
        code, out = await me.run("doctor")
        assert code == 0 and "Everything the platforms were asked about is ready." in out, out
        assert "Discord volunteers' channel (staff.volunteer_chat): the bot has every permission it needs" in out
        box.set_overwrite(volunteers, bot, allow=Permission.VIEW_CHANNEL, deny=Permission.CREATE_PUBLIC_THREADS)
        code, out = await me.run("doctor")  # a permission lost in the channel's settings is caught
        assert code == 1 and "the bot lacks create_public_threads" in out, out
        box.set_overwrite(volunteers, bot, allow=Permission.VIEW_CHANNEL)
        code, out = await me.run("rota", "import")
        assert code == 0, out

        bridge = await me.start("run")
        try:
            await _ready(me, {"discord": True})
            await _discord_conversation(box, bot, staff, volunteers, on_call)
        finally:
            bridge.send_signal(signal.SIGINT)
            async with asyncio.timeout(15):
                log = (await bridge.communicate())[0].decode()
        assert bridge.returncode == 0, log[-3000:]
        assert "Traceback" not in log and DISCORD_TOKEN not in log


async def _discord_conversation(
    box: DiscordSandbox, bot: BotAccount, staff: dict[str, DiscordUser], volunteers: Channel, on_call: Channel
) -> None:
    person = box.create_user("tester")
    box.send_dm(person, "hello, this is a test", bot=bot)

    def to_person(needle: str) -> bool:
        dm = box.dm_channel(person, bot)
        return dm is not None and any(needle in m.content for m in box.messages(dm))

    await _until(lambda: to_person("in the queue") or to_person("not on shift"))  # in hours or out of hours
    box.send_message(staff["Ana"], volunteers, "/next")
    await _until(lambda: to_person("A volunteer has joined"))
    thread = box.threads(volunteers)[-1]
    box.send_message(staff["Ana"], thread, "Hi, I'm Ana. This is our test.")
    await _until(lambda: to_person("I'm Ana. This is our test."))
    box.send_dm(person, "I want to kill myself tonight", bot=bot)
    await _until(lambda: to_person("You matter"))
    await _until(lambda: any("RISK" in m.content for m in box.messages(on_call)))
