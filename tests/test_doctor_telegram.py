"""`peerbridge doctor` against the Telegram sandbox: what it says for a set-up that works, and each fix it names
when something a coordinator commonly gets wrong is wrong (the sandbox answers getChat, getChatMember and
getChatAdministrators as Telegram does, and refuses topics to a bot without the right)."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from telegram import Bot
from telegram.error import BadRequest

from bot.doctor import Finding, examine
from bot.settings import load_settings
from sandboxes.telegram import Chat, TelegramSandbox, User

pytest_plugins = ["tests.telegram_fixtures"]
BOT_TOKEN = "123456:sandbox-test-token"  # the first bot of the `sandbox` fixture

ROOT = Path(__file__).resolve().parent.parent
ALL_WEEK = 'days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\ntime = "00:00-24:00"\n'


@dataclass
class Setup:
    box: TelegramSandbox
    config: Path
    rota: Path
    volunteers: Chat
    alerts: Chat
    ana: User
    lee: User
    sam: User


def _setup(box: TelegramSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    ana, lee, sam = box.create_user("Ana"), box.create_user("Lee"), box.create_user("Sam")
    volunteers = box.create_forum_group("Volunteers", members=[ana, lee, sam], bots=[BOT_TOKEN])
    alerts = box.create_group("On call", members=[lee], bots=[BOT_TOKEN])
    for person in (lee, sam):
        box.send_user_message(person, "/start")  # opens their private chat with the bot
    rota = tmp_path / "rota.toml"
    rota.write_text(
        f'timezone = "UTC"\n[[staff]]\nid = "ana"\ntelegram = {ana.id}\n'
        f'[[staff]]\nid = "lee"\nroles = ["professional"]\ntelegram = {lee.id}\n'
        f'[[staff]]\nid = "sam"\nroles = ["coordinator"]\ntelegram = {sam.id}\n'
        f'[[oncall]]\nprofessional = "lee"\n{ALL_WEEK}'
    )
    config = tmp_path / "peerbridge.toml"
    config.write_text(
        f'[telegram]\nenabled = true\napi_url = "{box.url}"\n'
        f'[staff]\nvolunteer_chat = "{volunteers.id}"\nescalation_chat = "{alerts.id}"\n'
        f'[rota]\nfile = "{rota}"\n'
    )
    monkeypatch.setenv("PEERBRIDGE_TELEGRAM__TOKEN", BOT_TOKEN)
    return Setup(box, config, rota, volunteers, alerts, ana, lee, sam)


async def _doctor(setup: Setup) -> list[Finding]:
    return await examine(load_settings(setup.config), datetime(2026, 12, 7, 3, 0, tzinfo=UTC))


def _problems(findings: list[Finding]) -> list[str]:
    return [f"{f.what} → {f.fix}" for f in findings if not f.ok]


async def test_a_set_up_that_works_has_nothing_to_fix(
    sandbox: TelegramSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = _setup(sandbox, tmp_path, monkeypatch)
    findings = await _doctor(setup)
    assert _problems(findings) == []
    said = "\n".join(f.what for f in findings)
    assert "a forum with Topics" in said and "may manage topics" in said
    assert "all 3 staff the rota names on Telegram are members" in said
    assert "lee is on call now" in said
    assert str(setup.ana.id) not in said  # staff by rota id, never by platform id


async def test_each_common_mistake_is_named_with_its_fix(
    sandbox: TelegramSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = _setup(sandbox, tmp_path, monkeypatch)
    sandbox.set_forum(setup.volunteers, False)
    problems = _problems(await _doctor(setup))
    assert len(problems) == 1 and "Topics are off" in problems[0] and "Topics → on" in problems[0]

    sandbox.set_forum(setup.volunteers, True)
    sandbox.set_admin(setup.volunteers, BOT_TOKEN, rights={"can_delete_messages"})
    problems = _problems(await _doctor(setup))
    assert len(problems) == 1 and "may not manage topics" in problems[0] and "Manage Topics" in problems[0]
    async with Bot(
        BOT_TOKEN, base_url=sandbox.bot_api_url, base_file_url=sandbox.file_url
    ) as bot:  # and indeed the platform refuses it a topic
        with pytest.raises(BadRequest, match="Not enough rights to create a topic"):
            await bot.create_forum_topic(setup.volunteers.id, "Quiet Otter 42")

    sandbox.set_admin(setup.volunteers, BOT_TOKEN, rights=None)
    problems = _problems(await _doctor(setup))
    assert len(problems) == 1 and "not an administrator" in problems[0] and "group privacy" in problems[0]


async def test_staff_missing_from_the_group_or_unreachable_privately_and_nobody_on_call(
    sandbox: TelegramSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = _setup(sandbox, tmp_path, monkeypatch)
    sandbox.room(setup.volunteers).members.discard(setup.ana.id)  # Ana left the group
    dora = sandbox.create_user("Dora")  # a new professional who never opened a chat with the bot
    dora_entry = f'[[staff]]\nid = "dora"\nroles = ["professional"]\ntelegram = {dora.id}\n'
    sunday_only = 'days = ["sun"]\ntime = "00:00-01:00"\n'
    rota = setup.rota.read_text().replace(ALL_WEEK, sunday_only)
    setup.rota.write_text(rota.replace("[[oncall]]", dora_entry + "[[oncall]]"))
    problems = _problems(await _doctor(setup))
    assert any("not members: ana, dora (rota ids)" in p and "invite them" in p for p in problems)
    assert any("cannot write to dora (rota ids)" in p and "presses Start" in p for p in problems)
    assert any("nobody is on call now (Mon 03:00 UTC)" in p for p in problems)
    assert len(problems) == 3


async def test_a_wrong_token_or_a_chat_the_bot_is_not_in(
    sandbox: TelegramSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = _setup(sandbox, tmp_path, monkeypatch)
    sandbox.room(setup.alerts).members.discard(sandbox.bot(BOT_TOKEN).id)
    problems = _problems(await _doctor(setup))
    assert problems == [
        "Telegram escalation chat (staff.escalation_chat): the bot is not in it, or the id is wrong → add the bot "
        "to the on-call group; /chatid in the group shows its id"
    ]
    monkeypatch.setenv("PEERBRIDGE_TELEGRAM__TOKEN", "999:not-a-token-the-sandbox-knows")
    problems = _problems(await _doctor(setup))
    assert len(problems) == 1 and "the token was refused" in problems[0] and "@BotFather" in problems[0]


async def test_the_command_prints_each_fix_and_exits_non_zero_until_all_is_ready(
    sandbox: TelegramSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = _setup(sandbox, tmp_path, monkeypatch)

    async def doctor() -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "doctor", "--config", str(setup.config), cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await process.communicate()
        return process.returncode or 0, out.decode()

    sandbox.set_forum(setup.volunteers, False)
    code, out = await doctor()
    assert code == 1, out
    assert "  FIX  Telegram volunteers' group (staff.volunteer_chat): Topics are off\n       → group settings" in out
    assert "1 problem(s) to fix." in out and BOT_TOKEN not in out
    sandbox.set_forum(setup.volunteers, True)
    code, out = await doctor()
    assert code == 0, out
    assert "Everything the platforms were asked about is ready." in out
