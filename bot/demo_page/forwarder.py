"""Forwards a fixed allow-list of control calls from the demo page to the platform sandboxes, server-side.

The sandboxes' control APIs send no CORS headers and have no authentication, so the browser never talks to
them: the page asks its own server, which knows the demo's chats and the people the newcomer plays, and builds
every sandbox request itself. The browser names a *pane* ("phone", "discord", "staff", "alerts") and, in the
staff pane, a *role* ("volunteer", "supervisor", "coordinator"), never a user or chat id, so it can only write
as the demo person (on Telegram or on Discord), one of the demo's three staff or the on-call professional,
only into the demo's chats, and only through the calls in `ALLOWED` (Telegram sandbox) and `DISCORD_ALLOWED`
(Discord sandbox). It is never an open proxy.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import aiohttp

JsonObject = dict[str, Any]

SENT = "/_sandbox/sent"
MESSAGES = "/_sandbox/messages"
CALLBACKS = "/_sandbox/callbacks"
TOPICS = "/_sandbox/chats/{chat}/topics"
TRANSCRIPT = "/_sandbox/chats/{chat}/messages"
ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", MESSAGES),  # write as one of the demo's people
        ("POST", CALLBACKS),  # press a button on a bot message
        ("GET", SENT),  # what the bot sent (long poll)
        ("GET", TOPICS),  # the volunteers' topics
        ("GET", TRANSCRIPT),  # a demo chat's messages, both sides (first paint)
    }
)
# The Discord sandbox: the demo person's direct messages with the bot, nothing else.
DISCORD_DMS = "/_sandbox/dms"
DISCORD_BUTTON = "/_sandbox/interactions/button"
DISCORD_ACTIONS = "/_sandbox/actions"
DISCORD_MESSAGES = "/_sandbox/channels/{channel}/messages"
DISCORD_ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        ("POST", DISCORD_DMS),  # write to the bot as the demo person
        ("POST", DISCORD_BUTTON),  # press a button on a bot message in their DM
        ("GET", DISCORD_ACTIONS),  # what the bot did (long poll), filtered here to their DM
        ("GET", DISCORD_MESSAGES),  # their DM's messages, both sides (first paint)
    }
)
MAX_TEXT = 4096
MAX_BUTTON_DATA = 100  # Discord's custom_id limit (Telegram's callback data is shorter still)
LONG_POLL_LIMIT = 25.0


class NotAllowed(Exception):
    """A request the forwarder refuses: outside the allow-list, or naming something outside the demo."""


class Pane(enum.StrEnum):
    """The chats the page shows; the browser refers to chats only by these names."""

    PHONE = "phone"  # the demo person's private chat with the bot on Telegram
    DISCORD = "discord"  # the demo person's direct messages with the bot on Discord
    STAFF = "staff"  # the volunteers' forum group (General and one topic per conversation)
    ALERTS = "alerts"  # the on-call professionals' escalation chat
    DIRECT = "direct"  # the bot's private messages to the demo's staff (e.g. a dashboard sign-in link)


class StaffRole(enum.StrEnum):
    """Whom the newcomer plays in the volunteers' workspace (the page's role switch)."""

    VOLUNTEER = "volunteer"
    SUPERVISOR = "supervisor"
    COORDINATOR = "coordinator"


TELEGRAM_PANES = (Pane.PHONE, Pane.STAFF, Pane.ALERTS, Pane.DIRECT)


@dataclass(frozen=True, slots=True)
class DemoChats:
    """The demo's people and chats, fixed when the demo starts."""

    person_id: int
    volunteer_id: int
    professional_id: int
    staff_chat: int
    escalation_chat: int
    discord_person_id: int | None = None  # the same person on Discord (a separate user there), if offered
    supervisor_id: int | None = None
    coordinator_id: int | None = None

    def staff_ids(self) -> dict[str, int]:
        """The staff the newcomer plays, by role (the on-call professional as "professional")."""
        found = {StaffRole.VOLUNTEER.value: self.volunteer_id, "professional": self.professional_id}
        if self.supervisor_id is not None:
            found[StaffRole.SUPERVISOR.value] = self.supervisor_id
        if self.coordinator_id is not None:
            found[StaffRole.COORDINATOR.value] = self.coordinator_id
        return found

    def chat_of(self, pane: Pane) -> int:
        """The Telegram chat id behind a pane (a private chat's id is the person's user id; DIRECT: the
        volunteer's private chat, the first of the staff's)."""
        return {
            Pane.PHONE: self.person_id,
            Pane.STAFF: self.staff_chat,
            Pane.ALERTS: self.escalation_chat,
            Pane.DIRECT: self.volunteer_id,
        }[pane]

    def pane_of(self, chat_id: int) -> Pane | None:
        if chat_id in self.staff_ids().values():
            return Pane.DIRECT
        return next((pane for pane in TELEGRAM_PANES if self.chat_of(pane) == chat_id), None)

    def writer(self, pane: Pane, role: StaffRole = StaffRole.VOLUNTEER) -> int | None:
        """Who the newcomer plays in a pane (in the staff pane, as `role`); None where they only read."""
        if pane is Pane.STAFF:
            writer = self.staff_ids().get(role.value)
            if writer is None:
                raise NotAllowed("this demo has nobody in that role")
            return writer
        return {Pane.PHONE: self.person_id, Pane.ALERTS: self.professional_id}.get(pane)

    def role_of(self, user_id: object) -> str | None:
        return next((role for role, uid in self.staff_ids().items() if uid == user_id), None)


def role_named(value: object) -> StaffRole:
    """The staff role the browser named (default: the volunteer); NotAllowed for anything else."""
    if value is None:
        return StaffRole.VOLUNTEER
    try:
        return StaffRole(str(value))
    except ValueError:
        raise NotAllowed("unknown role") from None


def pane_named(value: object, *, writable: bool = False) -> Pane:
    """The pane the browser named; NotAllowed for anything else."""
    try:
        pane = Pane(str(value))
    except ValueError:
        raise NotAllowed("unknown pane") from None
    if writable and pane is Pane.DIRECT:
        raise NotAllowed("that pane is read-only")
    return pane


def simplify(view: JsonObject, chats: DemoChats) -> JsonObject | None:
    """A sandbox message view as the page shows it, or None if it is outside the demo's chats."""
    message = view.get("message") or {}
    pane = chats.pane_of(int((message.get("chat") or {}).get("id", 0)))
    if pane is None:
        return None
    sender = message.get("from") or {}
    played = chats.staff_ids().values() if pane is Pane.STAFF else (chats.writer(pane),)
    if sender.get("is_bot"):
        who = "bot"
    elif sender.get("id") in played:
        who = "you"
    else:
        who = str(sender.get("first_name", ""))
    text = str(message.get("text") or message.get("caption") or "")
    created = message.get("forum_topic_created")
    if created:
        who, text = "service", f"Topic opened: {created.get('name', '')}"
    elif not text:
        text = "[attachment]"
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    buttons = [[str(b.get("text", "")), str(b["callback_data"])] for row in rows for b in row if "callback_data" in b]
    chat_id = int((message.get("chat") or {}).get("id", 0))
    return {
        "pane": pane.value,
        "to": chats.role_of(chat_id) if pane is Pane.DIRECT else None,  # whose private chat
        "id": int(message.get("message_id", 0)),
        "version": int(view.get("version", 1)),
        "thread": message.get("message_thread_id"),
        "from": who,
        "text": text,
        "buttons": buttons,
    }


class SandboxForwarder:
    """The only way from the page to the sandbox: named operations over a fixed set of control calls."""

    def __init__(self, sandbox_url: str, chats: DemoChats, session: aiohttp.ClientSession) -> None:
        self._base = sandbox_url.rstrip("/")
        self.chats = chats
        self._session = session

    async def forward(
        self, method: str, route: str, *, chat: int | None = None, query: dict[str, str] | None = None,
        body: JsonObject | None = None,
    ) -> Any:  # fmt: skip
        """One control call; refuses routes outside `ALLOWED` and chats outside the demo. Returns `result`."""
        if (method, route) not in ALLOWED:
            raise NotAllowed(f"{method} {route} is not forwarded")
        if "{chat}" in route:
            if chat is None or self.chats.pane_of(chat) is None:
                raise NotAllowed("that chat is not part of the demo")
            route = route.replace("{chat}", str(chat))
        async with self._session.request(method, self._base + route, params=query, json=body) as response:
            answer = await response.json(content_type=None)
        if not isinstance(answer, dict) or not answer.get("ok"):
            description = answer.get("description", "failed") if isinstance(answer, dict) else "failed"
            raise SandboxRefused(str(description))
        return answer["result"]

    async def say(
        self, pane: Pane, text: str, thread: int | None = None, role: StaffRole = StaffRole.VOLUNTEER
    ) -> JsonObject | None:
        """Write `text` as the person the newcomer plays in `pane` (in the staff pane: as `role`)."""
        writer = self.chats.writer(pane, role)
        if writer is None:
            raise NotAllowed("that pane is read-only")
        if not text.strip() or len(text) > MAX_TEXT:
            raise NotAllowed(f"write between 1 and {MAX_TEXT} characters")
        body: JsonObject = {"user_id": writer, "text": text}
        if pane is not Pane.PHONE:
            body["chat_id"] = self.chats.chat_of(pane)
            if thread is not None and pane is Pane.STAFF:
                body["thread_id"] = int(thread)
        return simplify(await self.forward("POST", MESSAGES, body=body), self.chats)

    async def press(self, pane: Pane, message_id: int, data: str, role: StaffRole = StaffRole.VOLUNTEER) -> None:
        """Press the button carrying `data` on a bot message in `pane`, as the person the newcomer plays there."""
        writer = self.chats.writer(pane, role)
        if writer is None:
            raise NotAllowed("that pane is read-only")
        body = {"user_id": writer, "chat_id": self.chats.chat_of(pane), "message_id": int(message_id), "data": data}
        await self.forward("POST", CALLBACKS, body=body)

    async def updates(
        self,
        since: int,
        wait_seconds: float,
        staff_after: int = 0,
    ) -> tuple[list[JsonObject], int]:
        """What the bot sent after `since` in the demo's chats (waits up to `wait_seconds` for anything new).

        Other people's messages in the staff group (a scenario's volunteers) are not bot output; when anything
        happened, those after message `staff_after` come along too.
        """
        wait = min(max(wait_seconds, 0.0), LONG_POLL_LIMIT)
        result = await self.forward("GET", SENT, query={"since": str(max(since, 0)), "timeout": str(wait)})
        found = [simplify(view, self.chats) for view in result.get("messages", [])]
        mark = int(result.get("next", since))
        if mark > since:
            views = await self.forward("GET", TRANSCRIPT, chat=self.chats.staff_chat)
            found += [
                simplify(view, self.chats)
                for view in views
                if int(view["message"]["message_id"]) > staff_after and not view["message"]["from"].get("is_bot")
            ]
        return [m for m in found if m is not None], mark

    async def topics(self) -> list[JsonObject]:
        found = await self.forward("GET", TOPICS, chat=self.chats.staff_chat)
        return [
            {"thread": int(t["message_thread_id"]), "name": str(t["name"]), "closed": bool(t.get("closed"))}
            for t in found
        ]

    async def history(self) -> list[JsonObject]:
        """The demo chats' current messages, both sides, for the first paint."""
        messages: list[JsonObject] = []
        chats = [self.chats.chat_of(p) for p in TELEGRAM_PANES if p is not Pane.DIRECT]
        for chat in chats + list(self.chats.staff_ids().values()):
            found = await self.forward("GET", TRANSCRIPT, chat=chat)
            messages += [m for m in (simplify(view, self.chats) for view in found) if m is not None]
        return messages


def discord_view(message: JsonObject, person_id: int) -> JsonObject:
    """A Discord sandbox message as the page shows it on the phone (ids are strings: snowflakes outgrow JS)."""
    author = message.get("author") or {}
    who = "bot" if author.get("bot") else "you" if str(author.get("id")) == str(person_id) else "other"
    text = str(message.get("content") or "") or ("[attachment]" if message.get("attachments") else "")
    buttons = [
        [str(c.get("label", "")), str(c["custom_id"])]
        for row in message.get("components") or []
        for c in row.get("components") or []
        if c.get("custom_id")
    ]
    return {
        "pane": Pane.DISCORD.value,
        "id": str(message.get("id", "0")),
        "version": int(message.get("revision", 1)),
        "thread": None,
        "from": who,
        "text": text,
        "buttons": buttons,
    }


class DiscordPhone:
    """The demo person's direct messages with the bot in the Discord sandbox, over `DISCORD_ALLOWED` only.

    The DM channel exists once the person first writes (as on Discord); its id is learnt from that answer,
    and only that channel's messages ever reach the page.
    """

    def __init__(self, sandbox_url: str, person_id: int, session: aiohttp.ClientSession) -> None:
        self._base = sandbox_url.rstrip("/")
        self._person = person_id
        self._session = session
        self._dm: int | None = None
        self._seen: set[str] = set()  # bot messages shown in the DM: the only ones whose buttons can be pressed

    async def forward(
        self, method: str, route: str, *, channel: int | None = None, query: dict[str, str] | None = None,
        body: JsonObject | None = None,
    ) -> Any:  # fmt: skip
        """One control call; refuses routes outside `DISCORD_ALLOWED` and any channel but the person's DM."""
        if (method, route) not in DISCORD_ALLOWED:
            raise NotAllowed(f"{method} {route} is not forwarded")
        if "{channel}" in route:
            if channel is None or channel != self._dm:
                raise NotAllowed("that channel is not the demo person's")
            route = route.replace("{channel}", str(channel))
        async with self._session.request(method, self._base + route, params=query, json=body) as response:
            answer = await response.json(content_type=None)
            if response.status >= 400:
                problem = answer.get("error") or answer.get("message") if isinstance(answer, dict) else None
                raise SandboxRefused(str(problem or "failed"))
        return answer

    def _view(self, message: JsonObject) -> JsonObject:
        view = discord_view(message, self._person)
        if view["from"] == "bot":
            self._seen.add(view["id"])
        return view

    async def say(self, text: str) -> JsonObject:
        """Write `text` to the bot as the demo person."""
        if not text.strip() or len(text) > MAX_TEXT:
            raise NotAllowed(f"write between 1 and {MAX_TEXT} characters")
        sent = await self.forward("POST", DISCORD_DMS, body={"user_id": str(self._person), "content": text})
        self._dm = int(sent["channel_id"])
        return self._view(sent)

    async def press(self, message_id: int, data: str) -> None:
        """Press the button carrying `data` on a bot message in the person's DM."""
        if str(message_id) not in self._seen:
            raise NotAllowed("that message is not in the demo person's chat")
        body = {"user_id": str(self._person), "message_id": str(message_id), "custom_id": data}
        await self.forward("POST", DISCORD_BUTTON, body=body)

    async def updates(self, after: int, wait_seconds: float) -> tuple[list[JsonObject], int]:
        """What the bot sent or edited in the person's DM after action `after` (waits for anything new)."""
        wait = min(max(wait_seconds, 0.0), LONG_POLL_LIMIT)
        actions = await self.forward("GET", DISCORD_ACTIONS, query={"after": str(max(after, 0)), "timeout": str(wait)})
        dm = str(self._dm)
        found = [
            self._view(a["message"]) for a in actions if a.get("message") and str(a["message"].get("channel_id")) == dm
        ]
        return found, max(after, 0) + len(actions)

    async def history(self) -> list[JsonObject]:
        """The DM's current messages, both sides (nothing before the person first wrote)."""
        if self._dm is None:
            return []
        return [self._view(m) for m in await self.forward("GET", DISCORD_MESSAGES, channel=self._dm)]


class SandboxRefused(Exception):
    """The sandbox answered `ok: false` (its description says why)."""
