"""Forwards a fixed allow-list of control calls from the demo page to the Telegram sandbox, server-side.

The sandbox's control API sends no CORS headers and has no authentication, so the browser never talks to it:
the page asks its own server, which knows the demo's four chats and the three people the newcomer plays, and
builds every sandbox request itself. The browser names a *pane* ("phone", "staff", "alerts"), never a user or
chat id, so it can only write as the demo person, the demo volunteer or the on-call professional, only into
the demo's chats, and only through the calls in `ALLOWED`. It is never an open proxy.
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
MAX_TEXT = 4096
LONG_POLL_LIMIT = 25.0


class NotAllowed(Exception):
    """A request the forwarder refuses: outside the allow-list, or naming something outside the demo."""


class Pane(enum.StrEnum):
    """The chats the page shows; the browser refers to chats only by these names."""

    PHONE = "phone"  # the demo person's private chat with the bot
    STAFF = "staff"  # the volunteers' forum group (General and one topic per conversation)
    ALERTS = "alerts"  # the on-call professionals' escalation chat
    DIRECT = "direct"  # the bot's private messages to the demo volunteer (e.g. a dashboard sign-in link)


@dataclass(frozen=True, slots=True)
class DemoChats:
    """The demo's people and chats, fixed when the demo starts."""

    person_id: int
    volunteer_id: int
    professional_id: int
    staff_chat: int
    escalation_chat: int

    def chat_of(self, pane: Pane) -> int:
        """The chat id behind a pane (a private chat's id is the person's user id)."""
        return {
            Pane.PHONE: self.person_id,
            Pane.STAFF: self.staff_chat,
            Pane.ALERTS: self.escalation_chat,
            Pane.DIRECT: self.volunteer_id,
        }[pane]

    def pane_of(self, chat_id: int) -> Pane | None:
        return next((pane for pane in Pane if self.chat_of(pane) == chat_id), None)

    def writer(self, pane: Pane) -> int | None:
        """Who the newcomer plays in a pane; None where they only read."""
        return {Pane.PHONE: self.person_id, Pane.STAFF: self.volunteer_id, Pane.ALERTS: self.professional_id}.get(pane)


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
    if sender.get("is_bot"):
        who = "bot"
    elif sender.get("id") == chats.writer(pane):
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
    return {
        "pane": pane.value,
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

    async def say(self, pane: Pane, text: str, thread: int | None = None) -> JsonObject | None:
        """Write `text` as the person the newcomer plays in `pane`."""
        writer = self.chats.writer(pane)
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

    async def press(self, pane: Pane, message_id: int, data: str) -> None:
        """Press the button carrying `data` on a bot message in `pane`, as the person the newcomer plays there."""
        writer = self.chats.writer(pane)
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
        for pane in Pane:
            found = await self.forward("GET", TRANSCRIPT, chat=self.chats.chat_of(pane))
            messages += [m for m in (simplify(view, self.chats) for view in found) if m is not None]
        return messages


class SandboxRefused(Exception):
    """The sandbox answered `ok: false` (its description says why)."""
