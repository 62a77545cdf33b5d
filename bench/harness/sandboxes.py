"""The platform sandboxes as the benchmarks start them: volunteers, the bridge's staff space and on-call chat,
and, when a second token is given, a bare echo bot with a staff space of its own; and the bridge's platform
settings for them. The people are the benchmark's own (each names and counts them differently)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.timing import TimedOutbox
from sandboxes.telegram import Chat, FloodLimits, TelegramSandbox
from sandboxes.telegram import User as TgUser

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # discord.py imports audioop (voice support)
    from sandboxes.discord import BotAccount, Channel, DiscordSandbox, Guild, Permission, Role, SandboxSettings
    from sandboxes.discord import User as DcUser


@dataclass
class TelegramStaff:
    """A started Telegram sandbox: the volunteers in the bridge's forum ("Volunteers"), an on-call group, and
    the echo bot's forum ("Echo volunteers") when there is an echo bot. `outbox` times every bot message."""

    box: TelegramSandbox
    outbox: TimedOutbox
    token: str  # the bridge's
    volunteers: list[TgUser]
    staff: Chat
    alerts: Chat
    echo_staff: Chat | None

    def echo(self) -> Chat:
        """The echo bot's forum (for a sandbox started with an echo bot's token)."""
        assert self.echo_staff is not None, "the sandbox was started without an echo bot"
        return self.echo_staff

    def bridge_tables(self) -> dict[str, Any]:
        """The bridge's `telegram` and `staff` settings tables for this sandbox."""
        return {
            "telegram": {"enabled": True, "token": self.token, "api_url": self.box.url},
            "staff": _staff_table("telegram", self.staff.id, self.alerts.id),
        }


async def start_telegram(
    volunteers: int, tokens: Sequence[str], flood_limits: FloodLimits | None = None
) -> TelegramStaff:
    """Start a Telegram sandbox for `tokens` (the bridge's, then an echo bot's if any) with `volunteers`
    volunteers Vol0, Vol1, ...; `flood_limits` None keeps Telegram's own."""
    box = TelegramSandbox(tokens=list(tokens), flood_limits=flood_limits)
    await box.start()
    outbox = TimedOutbox()
    box.world.outbox = outbox
    bridge = tokens[0]
    team = [box.create_user(f"Vol{i}") for i in range(volunteers)]
    staff = box.create_forum_group("Volunteers", members=team, bots=[bridge])
    echo_staff = None
    if len(tokens) > 1:
        echo_staff = box.create_forum_group("Echo volunteers", members=team, bots=[tokens[1]])
    alerts = box.create_group("On call", members=[box.create_user("OnCall")], bots=[bridge])
    return TelegramStaff(box, outbox, bridge, team, staff, alerts, echo_staff)


@dataclass
class DiscordStaff:
    """A started Discord sandbox: guild "Staff" with the volunteers' channel and an on-call channel (each seen by
    its role), and the echo bot's channel when there is an echo bot (each bot sees only its own staff spaces)."""

    box: DiscordSandbox
    token: str  # the bridge's
    guild: Guild
    volunteers: list[DcUser]
    staff: Channel
    alerts: Channel
    echo_staff: Channel | None

    def echo(self) -> Channel:
        """The echo bot's channel (for a sandbox started with an echo bot's token)."""
        assert self.echo_staff is not None, "the sandbox was started without an echo bot"
        return self.echo_staff

    def bridge_tables(self) -> dict[str, Any]:
        """The bridge's `discord` and `staff` settings tables for this sandbox."""
        box = self.box
        return {
            "discord": {"enabled": True, "token": self.token, "api_url": box.api_url, "gateway_url": box.gateway_url},
            "staff": _staff_table("discord", self.staff.id, self.alerts.id),
        }


async def start_discord(
    volunteers: int, tokens: Sequence[str], settings: SandboxSettings | None = None
) -> DiscordStaff:
    """Start a Discord sandbox for `tokens` (the bridge "peerbridge", then an "echo" bot if any) with
    `volunteers` volunteers vol0, vol1, ...; `settings` None keeps Discord's own limits."""
    box = DiscordSandbox(tokens=list(tokens), bot_names=["peerbridge", "echo"][: len(tokens)], settings=settings)
    await box.start()
    echo = box.bots[1] if len(tokens) > 1 else None
    guild = box.create_guild("Staff")
    volunteer_role = box.create_role(guild, "volunteer", permissions=Permission.USE_APPLICATION_COMMANDS)
    on_call_role = box.create_role(guild, "on-call", permissions=Permission.USE_APPLICATION_COMMANDS)
    team = [box.create_user(f"vol{i}") for i in range(volunteers)]
    for volunteer in team:
        box.add_member(guild, volunteer, [volunteer_role])
    box.add_member(guild, box.create_user("oncall"), [on_call_role])
    staff = _channel(box, guild, "volunteers", volunteer_role, hidden_from=echo)
    echo_staff = _channel(box, guild, "echo-volunteers", volunteer_role, hidden_from=box.bots[0]) if echo else None
    alerts = _channel(box, guild, "on-call", on_call_role, hidden_from=echo)
    return DiscordStaff(box, tokens[0], guild, team, staff, alerts, echo_staff)


def _channel(box: DiscordSandbox, guild: Guild, name: str, role: Role, hidden_from: BotAccount | None) -> Channel:
    channel = box.create_text_channel(guild, name, visible_to=[role])
    if hidden_from is not None:
        box.set_overwrite(channel, hidden_from, deny=Permission.VIEW_CHANNEL)  # one bot per staff space
    return channel


def _staff_table(platform: str, staff: int, alerts: int) -> dict[str, str]:
    return {"platform": platform, "volunteer_chat": str(staff), "escalation_chat": str(alerts)}
