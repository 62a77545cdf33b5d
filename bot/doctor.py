"""`peerbridge doctor`: ask the platforms, with the real tokens, whether the set-up in the config can work.

check-config reads files; the doctor asks Telegram and Discord what only they know: the token is valid, the bot
is in each staff chat with the rights it needs, the volunteers' group is a forum, the staff the rota names are
members, the Message Content intent is granted, and someone is on call now. Each problem comes with its fix in
one line. It changes nothing on the platforms and sends no message.

Staff are named by their rota id, never by their platform id or name.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import telegram
from telegram.constants import ChatMemberStatus, ChatType

from adapters.telegram.http import AiohttpRequest
from bot.check_config import read_rota
from bot.services import load_roster
from bot.settings import Settings
from routing.model import Platform, Role
from routing.pseudonyms import Pseudonymiser
from routing.roster import Roster, StaffMember
from routing.rota import on_call
from routing.workspace import Workspace

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # discord.py imports audioop (voice support)
    import discord

    from adapters.discord.adapter import use_endpoints

PRESENT = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER, ChatMemberStatus.RESTRICTED}
# What the Discord adapter does in each channel: read and write, open public threads per person, write in them,
# close them, attach files (the guide's invite link asks for exactly these).
DISCORD_VOLUNTEER_PERMISSIONS = (
    "view_channel", "send_messages", "read_message_history", "attach_files", "create_public_threads",
    "send_messages_in_threads", "manage_threads",
)  # fmt: skip
DISCORD_ALERT_PERMISSIONS = ("view_channel", "send_messages", "read_message_history")


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing checked: fine, or a problem with the fix."""

    ok: bool
    what: str
    fix: str = ""

    def line(self) -> str:
        return f"  ok   {self.what}" if self.ok else f"  FIX  {self.what}\n       → {self.fix}"


def _ok(what: str) -> Finding:
    return Finding(True, what)


def _bad(what: str, fix: str) -> Finding:
    return Finding(False, what, fix)


async def examine(settings: Settings, now: datetime | None = None) -> list[Finding]:
    """Every check for the platforms the config enables, then the rota's cover now."""
    roster = load_roster(settings.rota.file, Pseudonymiser(b"doctor-only: no pseudonym is made"))
    findings: list[Finding] = []
    if settings.telegram.enabled:
        findings += await telegram_findings(settings, roster)
    if settings.discord.enabled:
        findings += await discord_findings(settings, roster)
    findings += rota_findings(settings, roster, now or datetime.now(UTC))
    return findings


# --- Telegram ------------------------------------------------------------------------------------------------


async def telegram_findings(settings: Settings, roster: Roster) -> list[Finding]:
    token = settings.telegram.token.get_secret_value() if settings.telegram.token else ""
    api = settings.telegram.api_url.rstrip("/")
    request = AiohttpRequest(4, connect_timeout=5, read_timeout=10, write_timeout=10)  # the bridge's own HTTP
    bot = telegram.Bot(token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot", request=request)
    try:
        return await _telegram_checks(bot, settings, roster)
    except telegram.error.InvalidToken:
        return [_bad("Telegram: the token was refused", "copy the token again from @BotFather (/mybots → API Token) "
                     "into PEERBRIDGE_TELEGRAM__TOKEN")]  # fmt: skip
    except telegram.error.NetworkError as exc:
        return [_bad(f"Telegram: {api} cannot be reached ({type(exc).__name__})",
                     "check this machine's internet access, or telegram.api_url")]  # fmt: skip
    finally:
        await bot.shutdown()
        await request.shutdown()  # also when getMe failed (the bot then never counts as started)


async def _telegram_checks(bot: telegram.Bot, settings: Settings, roster: Roster) -> list[Finding]:
    await bot.initialize()  # getMe
    me = bot.bot
    found = [_ok(f"Telegram: the token belongs to @{me.username}")]
    if settings.staff.platform != Platform.TELEGRAM:
        return found
    if settings.staff.volunteer_chat:
        found += await _telegram_volunteer_group(bot, int(settings.staff.volunteer_chat), me.username or "")
        found += await _telegram_staff_present(bot, int(settings.staff.volunteer_chat), roster)
    if settings.staff.escalation_chat:
        found += await _telegram_alert_chat(bot, int(settings.staff.escalation_chat))
    return found + await _telegram_private_chats(bot, roster, settings.staff.workspace, me.username or "")


async def _telegram_volunteer_group(bot: telegram.Bot, chat_id: int, username: str) -> list[Finding]:
    where = "Telegram volunteers' group (staff.volunteer_chat)"
    try:
        chat = await bot.get_chat(chat_id)
    except (telegram.error.Forbidden, telegram.error.BadRequest):
        return [_bad(f"{where}: the bot is not in it, or the id is wrong",
                     f"add @{username} to the group as an administrator; /chatid there shows its id")]  # fmt: skip
    found = []
    if chat.type != ChatType.SUPERGROUP or not chat.is_forum:
        found.append(_bad(f"{where}: Topics are off",
                          "group settings → Topics → on (each person gets their own topic)"))  # fmt: skip
    else:
        found.append(_ok(f"{where}: a forum with Topics"))
    member = await bot.get_chat_member(chat_id, bot.bot.id)
    if isinstance(member, telegram.ChatMemberAdministrator):
        if member.can_manage_topics:
            found.append(_ok(f"{where}: the bot is an administrator and may manage topics"))
        else:
            found.append(_bad(f"{where}: the bot may not manage topics",
                              "group settings → Administrators → the bot → allow Manage Topics"))  # fmt: skip
        if not member.can_delete_messages:  # deleteForumTopic: a closed conversation's topic at retention's end
            found.append(_bad(f"{where}: the bot may not delete messages, so topics stay after retention and /forget",
                              "group settings → Administrators → the bot → allow Delete Messages"))  # fmt: skip
    elif bot.bot.can_read_all_group_messages:
        found.append(_bad(f"{where}: the bot is not an administrator, so it cannot open topics",
                          "group settings → Administrators → add the bot with Manage Topics"))  # fmt: skip
    else:
        found.append(_bad(f"{where}: the bot is not an administrator: it cannot open topics, and with group "
                          "privacy on it does not see what volunteers write",
                          "group settings → Administrators → add the bot with Manage Topics"))  # fmt: skip
    return found


async def _telegram_staff_present(bot: telegram.Bot, chat_id: int, roster: Roster) -> list[Finding]:
    absent = []
    named = [m for m in roster.members if Platform.TELEGRAM in m.identities]
    for member in named:
        try:
            status = (await bot.get_chat_member(chat_id, int(member.identities[Platform.TELEGRAM]))).status
        except telegram.error.BadRequest:
            status = ChatMemberStatus.LEFT
        if status not in PRESENT:
            absent.append(member.id)
    if absent:
        return [_bad(f"Telegram volunteers' group: not members: {', '.join(absent)} (rota ids)",
                     "invite them to the group (or correct their telegram id in the rota)")]  # fmt: skip
    return [_ok(f"Telegram volunteers' group: all {len(named)} staff the rota names on Telegram are members")]


async def _telegram_alert_chat(bot: telegram.Bot, chat_id: int) -> list[Finding]:
    where = "Telegram escalation chat (staff.escalation_chat)"
    try:
        await bot.get_chat(chat_id)
    except (telegram.error.Forbidden, telegram.error.BadRequest):
        return [_bad(f"{where}: the bot is not in it, or the id is wrong",
                     "add the bot to the on-call group; /chatid in the group shows its id")]  # fmt: skip
    return [_ok(f"{where}: the bot is in it")]


async def _telegram_private_chats(
    bot: telegram.Bot, roster: Roster, workspace: Workspace, username: str
) -> list[Finding]:
    """Who must be reached privately: professionals and coordinators (pages), and in the private workspace
    every volunteer. A bot can only write to someone who has opened a chat with it."""

    def needs(m: StaffMember) -> bool:
        return workspace == Workspace.PRIVATE or m.has(Role.PROFESSIONAL) or m.has(Role.COORDINATOR)

    unreachable = []
    people = [m for m in roster.members if Platform.TELEGRAM in m.identities and needs(m)]
    for member in people:
        try:
            await bot.get_chat(int(member.identities[Platform.TELEGRAM]))
        except (telegram.error.Forbidden, telegram.error.BadRequest):
            unreachable.append(member.id)
    if unreachable:
        return [_bad(f"Telegram private chats: the bot cannot write to {', '.join(unreachable)} (rota ids)",
                     f"each of them opens a chat with @{username} and presses Start")]  # fmt: skip
    return [_ok(f"Telegram private chats: the bot can write to all {len(people)} staff it pages or works with")]


# --- Discord -------------------------------------------------------------------------------------------------


async def discord_findings(settings: Settings, roster: Roster) -> list[Finding]:
    token = settings.discord.token.get_secret_value() if settings.discord.token else ""
    use_endpoints(settings.discord.api_url, settings.discord.gateway_url)
    client = discord.Client(intents=discord.Intents.none())
    try:
        try:
            await client.login(token)
        except discord.LoginFailure:
            return [_bad("Discord: the token was refused", "Developer Portal → your application → Bot → Reset "
                         "Token, into PEERBRIDGE_DISCORD__TOKEN")]  # fmt: skip
        except (discord.HTTPException, OSError) as exc:
            return [_bad(f"Discord: {settings.discord.api_url} cannot be reached ({type(exc).__name__})",
                         "check this machine's internet access, or discord.api_url")]  # fmt: skip
        assert client.user is not None
        found = [_ok(f"Discord: the token belongs to {client.user.name}")]
        flags = (await client.application_info()).flags
        if flags.gateway_message_content or flags.gateway_message_content_limited:
            found.append(_ok("Discord: the Message Content intent is on"))
        else:
            found.append(_bad("Discord: the Message Content intent is off: the bot would not see what people write",
                              "Developer Portal → your application → Bot → Message Content Intent → on"))  # fmt: skip
        if settings.staff.platform == Platform.DISCORD:
            staff = settings.staff
            chats = (
                ("volunteers' channel (staff.volunteer_chat)", staff.volunteer_chat, DISCORD_VOLUNTEER_PERMISSIONS),
                ("escalation channel (staff.escalation_chat)", staff.escalation_chat, DISCORD_ALERT_PERMISSIONS),
            )
            for (name, channel_id, needed), members in zip(chats, (roster, None), strict=True):
                if channel_id:
                    found += await _discord_channel(client, f"Discord {name}", int(channel_id), needed, members)
        return found
    finally:
        await client.close()


def _permissions_in(
    channel: discord.abc.GuildChannel, guild: discord.Guild, member: discord.Member
) -> discord.Permissions:
    """A member's permissions in a channel, from the guild's roles and the channel's overwrites (Discord's
    documented order: @everyone, the member's roles, then @everyone's, roles' and the member's overwrites)."""
    allowed = guild.default_role.permissions.value
    for role in member.roles:
        allowed |= role.permissions.value
    if allowed & discord.Permissions.administrator.flag:
        return discord.Permissions.all()
    everyone_allow, everyone_deny = channel.overwrites_for(discord.Object(id=guild.id)).pair()
    allowed = (allowed & ~everyone_deny.value) | everyone_allow.value
    role_allow = role_deny = 0
    for role in member.roles:
        if role.id != guild.id:
            allow, deny = channel.overwrites_for(role).pair()
            role_allow, role_deny = role_allow | allow.value, role_deny | deny.value
    allowed = (allowed & ~role_deny) | role_allow
    member_allow, member_deny = channel.overwrites_for(discord.Object(id=member.id)).pair()
    return discord.Permissions((allowed & ~member_deny.value) | member_allow.value)


async def _discord_channel(
    client: discord.Client, where: str, channel_id: int, needed: Iterable[str], roster: Roster | None
) -> list[Finding]:
    """The bot's permissions in one channel; with `roster`, also that the staff it names are in the server."""
    try:
        channel = await client.fetch_channel(channel_id)
    except (discord.NotFound, discord.Forbidden):
        return [_bad(f"{where}: the bot cannot see it, or the id is wrong",
                     "invite the bot with the link in docs/go-live.md and let it see the channel; right-click the "
                     "channel → Copy Channel ID")]  # fmt: skip
    if not isinstance(channel, discord.TextChannel):
        return [_bad(f"{where}: not a text channel", "use a text channel (threads are opened inside it)")]
    assert client.user is not None
    guild = await client.fetch_guild(channel.guild.id)
    me = await guild.fetch_member(client.user.id)
    have = _permissions_in(channel, guild, me)
    missing = [name for name in needed if not getattr(have, name)]
    found = [
        _bad(f"{where}: the bot lacks {', '.join(missing)}",
             "channel settings → Permissions → the bot's role → allow those (or re-invite with the guide's link)")
        if missing else _ok(f"{where}: the bot has every permission it needs")
    ]  # fmt: skip
    if roster is None:
        return found
    absent = []
    named = [m for m in roster.members if Platform.DISCORD in m.identities]
    for member in named:
        try:
            await guild.fetch_member(int(member.identities[Platform.DISCORD]))
        except discord.NotFound:
            absent.append(member.id)
    if absent:
        found.append(_bad(f"{where}: not members of the server: {', '.join(absent)} (rota ids)",
                          "invite them to the server (or correct their discord id in the rota)"))  # fmt: skip
    else:
        found.append(_ok(f"{where}: all {len(named)} staff the rota names on Discord are in the server"))
    return found


# --- the rota ------------------------------------------------------------------------------------------------


def rota_findings(settings: Settings, roster: Roster, now: datetime) -> list[Finding]:
    rota = read_rota(settings.rota.file)
    if rota is None and settings.rota.file.exists():
        return [_bad(f"rota: {settings.rota.file} cannot be read", "peerbridge check-config says what is wrong")]
    if rota is None:
        return [_bad("rota: no rota file, so nobody is on call", "copy config/rota.example.toml to "
                     f"{settings.rota.file} and name an on-call professional for every hour")]  # fmt: skip
    cover = on_call(rota, now)
    if cover.primary is None and cover.backup is None:
        return [_bad(f"rota: nobody is on call now ({now:%a %H:%M} UTC): risk alerts page every professional at once",
                     "add an on-call block: /oncall in the staff chat, or [[oncall]] in the rota file")]  # fmt: skip
    return [_ok(f"rota: {cover.first} is on call now (rota id)")]
