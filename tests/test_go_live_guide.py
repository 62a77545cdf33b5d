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

from adapters.telegram.sandbox import TelegramSandbox
from adapters.telegram.sandbox_model import Message, User
from bot.embedded_redis import free_port
from tests.telegram_fixtures import BOT_TOKEN, ptb_timedelta, sandbox  # fixtures: found by name

__all__ = ["ptb_timedelta", "sandbox"]
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

    def start(self, *args: str) -> asyncio.subprocess.Process:
        return asyncio.create_subprocess_exec(  # type: ignore[return-value]
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


async def _ready(me: Coordinator) -> None:
    port = next(line.split("=")[1].strip() for line in (me.home / "config" / "peerbridge.toml").read_text().splitlines()
                if line.startswith("port = "))  # fmt: skip
    async with aiohttp.ClientSession() as http, asyncio.timeout(30):
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200 and (await response.json())["platforms"] == {"telegram": True}:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)


async def _test_conversation(box: TelegramSandbox, staff: dict[str, User], group: int, alerts: int) -> None:
    person = box.create_user("Tester", language_code="en")
    box.send_user_message(person, "hello, this is a test")
    await _until(lambda: _said(box, person.id, "in the queue") is not None)
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
