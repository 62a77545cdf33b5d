"""`peerbridge doctor` against the Discord sandbox (which answers guild, member, channel and application queries
as Discord does): a set-up that works, and the fix it names for each common mistake."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.doctor import Finding, examine
from bot.settings import load_settings
from sandboxes.discord import Channel, DiscordSandbox, Intent, Permission, User
from tests.discord_fixtures import BRIDGE_TOKEN, Staff, sandbox, staff  # fixtures: found by name

__all__ = ["sandbox", "staff"]
pytestmark = pytest.mark.timeout(30)


@dataclass
class Setup:
    config: Path
    alerts: Channel
    lee: User


def _setup(box: DiscordSandbox, staff: Staff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    lee, sam = box.create_user("lee"), box.create_user("sam")
    for user in (lee, sam):
        box.add_member(staff.guild, user, [staff.volunteer_role])
    alerts = box.create_text_channel(staff.guild, "on-call", visible_to=[staff.volunteer_role])
    rota = tmp_path / "rota.toml"
    rota.write_text(
        f'timezone = "UTC"\n[[staff]]\nid = "kim"\ndiscord = "{staff.volunteer.id}"\n'
        f'[[staff]]\nid = "lee"\nroles = ["professional"]\ndiscord = "{lee.id}"\n'
        f'[[staff]]\nid = "sam"\nroles = ["coordinator"]\ndiscord = "{sam.id}"\n'
        '[[oncall]]\nprofessional = "lee"\ndays = ["mon"]\ntime = "00:00-24:00"\n'
    )
    config = tmp_path / "peerbridge.toml"
    config.write_text(
        f'[discord]\nenabled = true\napi_url = "{box.api_url}"\ngateway_url = "{box.gateway_url}"\n'
        f'[staff]\nplatform = "discord"\nvolunteer_chat = "{staff.channel.id}"\nescalation_chat = "{alerts.id}"\n'
        f'[rota]\nfile = "{rota}"\n'
    )
    monkeypatch.setenv("PEERBRIDGE_DISCORD__TOKEN", BRIDGE_TOKEN)
    return Setup(config, alerts, lee)


async def _problems(setup: Setup) -> list[str]:
    findings: list[Finding] = await examine(load_settings(setup.config), datetime(2026, 12, 7, 3, 0, tzinfo=UTC))
    return [f"{f.what} → {f.fix}" for f in findings if not f.ok]


async def test_a_set_up_that_works_has_nothing_to_fix(
    sandbox: DiscordSandbox, staff: Staff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = _setup(sandbox, staff, tmp_path, monkeypatch)
    findings = await examine(load_settings(setup.config), datetime(2026, 12, 7, 3, 0, tzinfo=UTC))
    assert [f.what for f in findings if not f.ok] == []
    said = "\n".join(f.what for f in findings)
    assert "Message Content intent is on" in said
    assert "volunteers' channel (staff.volunteer_chat): the bot has every permission it needs" in said
    assert "escalation channel (staff.escalation_chat): the bot has every permission it needs" in said
    assert "lee is on call now" in said
    assert str(setup.lee.id) not in said  # staff by rota id, never by platform id


async def test_the_message_content_intent_off_is_named_with_where_to_turn_it_on(
    sandbox: DiscordSandbox, staff: Staff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = _setup(sandbox, staff, tmp_path, monkeypatch)
    sandbox.set_privileged_intents(Intent.GUILD_MEMBERS)
    assert await _problems(setup) == [
        "Discord: the Message Content intent is off: the bot would not see what people write → Developer Portal → "
        "your application → Bot → Message Content Intent → on"
    ]


async def test_a_permission_taken_from_the_bot_in_a_channel_is_named(
    sandbox: DiscordSandbox, staff: Staff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = _setup(sandbox, staff, tmp_path, monkeypatch)
    deny = Permission.CREATE_PUBLIC_THREADS | Permission.MANAGE_THREADS
    sandbox.set_overwrite(staff.channel, sandbox.bot, allow=Permission.VIEW_CHANNEL, deny=deny)
    problems = await _problems(setup)
    assert len(problems) == 1
    assert (
        "volunteers' channel (staff.volunteer_chat): the bot lacks create_public_threads, manage_threads"
        in (problems[0])
    )
    assert "channel settings → Permissions" in problems[0]
    sandbox.set_overwrite(setup.alerts, sandbox.bot, deny=Permission.VIEW_CHANNEL)
    problems = await _problems(setup)
    assert any("escalation channel (staff.escalation_chat): the bot cannot see it" in p for p in problems)


async def test_staff_not_in_the_server_and_a_refused_token(
    sandbox: DiscordSandbox, staff: Staff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = _setup(sandbox, staff, tmp_path, monkeypatch)
    sandbox.remove_member(staff.guild, setup.lee)
    problems = await _problems(setup)
    assert len(problems) == 1
    assert "not members of the server: lee (rota ids)" in problems[0] and "invite them" in problems[0]
    monkeypatch.setenv("PEERBRIDGE_DISCORD__TOKEN", "not-a-token-the-sandbox-knows")
    problems = await _problems(setup)
    assert len(problems) == 1 and "Discord: the token was refused" in problems[0]
