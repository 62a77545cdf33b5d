"""Shared `OutboundMessage` -> Discord REST calls through the real discord.py, within Discord's limits.

People are written to in their DM channel; volunteers see queue cards (with a Take button, edited in place)
and notices in the volunteers' channel, and each conversation in its own thread there (see `threads`);
alerts go to the escalation channel. Errors become `DeliveryError`s with a retry decision.
"""

from __future__ import annotations

import functools
import logging

import aiohttp
import discord

from adapters.discord.files import AttachmentCarrier
from adapters.discord.normalise import StaffChannels
from adapters.discord.sending import MAX_TEXT, buttons_view, send_parts
from adapters.discord.threads import ConversationThreads, conversation_of
from routing.delivery import DeliveryError, Destination, SlidingWindow, coalesce_texts
from routing.model import Audience, OutboundKind, OutboundMessage
from routing.store.conversations import ConversationStore

log = logging.getLogger(__name__)

CARD_FIELD = "card:discord"
ALERT_FIELD = "alert:discord"
CANNOT_MESSAGE_USER = 50007  # DMs closed, blocked the bot, or no shared server any more
# ~5 messages per 5 s per channel (observed; threads and DMs are channels too). Discord counts fixed windows
# from the request it received first; this window records a send when it starts, and a request that then waits
# (a file fetched, a thread looked up, a busy event loop) arrives later than recorded. A half-second margin:
# with 0.25 s, 100 people chatting still drew one 429 in 1,422 messages on this 2-core machine.
CHANNEL_WINDOW = (5, 5.5)
DEFAULT_RETRY_AFTER = 1.0
_MERGE = functools.partial(coalesce_texts, max_length=MAX_TEXT)


class DiscordDeliverer:
    """Sends outbound messages with a discord.py `Client`; raises DeliveryError with a retry decision."""

    def __init__(
        self,
        client: discord.Client,
        staff: StaffChannels | None,
        conversations: ConversationStore,
        carrier: AttachmentCarrier,
        *,
        rate_limits: bool = True,
    ) -> None:
        self._client = client
        self._staff = staff
        self._conversations = conversations
        self._carrier = carrier
        self._rate_limits = rate_limits
        self._threads = ConversationThreads(client, staff.volunteer, conversations) if staff else None
        self._channel_windows: dict[str, SlidingWindow] = {}

    def destination(self, message: OutboundMessage) -> Destination:
        """One destination per DM, per conversation thread, and per staff channel, each ~5 messages / 5 s.

        All of a conversation's thread messages share a destination, so they arrive in order and the
        thread is opened exactly once. The scheduler keeps a destination's windows while its worker lives,
        so per-person windows need no registry here.
        """
        if message.audience in (Audience.SEEKER, Audience.STAFF_DIRECT):
            key = f"dm:{message.chat}"
        elif message.audience == Audience.STAFF_THREAD:
            key = f"thread:{message.conversation or message.thread}"  # a deletion may name only its thread
            windows = (SlidingWindow(*CHANNEL_WINDOW),) if self._rate_limits else ()
            return Destination(key, windows, merge=_MERGE)  # relays waiting for the thread's turn go as one
        else:
            key = f"channel:{self._staff_channel(message)}"
            field = ALERT_FIELD if message.audience == Audience.ESCALATION else CARD_FIELD
            card = f"{field}:{message.conversation}" if message.kind == OutboundKind.UPSERT_CARD else ""
            if self._rate_limits:
                window = self._channel_windows.setdefault(key, SlidingWindow(*CHANNEL_WINDOW))
                return Destination(key, (window,), supersede=card)  # a card's refreshes collapse to the latest
            return Destination(key, supersede=card)
        return Destination(key, (SlidingWindow(*CHANNEL_WINDOW),) if self._rate_limits else ())

    async def deliver(self, message: OutboundMessage) -> None:
        try:
            await self._deliver(message)
        except discord.RateLimited as exc:  # a wait longer than discord.py's max_ratelimit_timeout
            raise DeliveryError("discord rate limit", retryable=True, retry_after=exc.retry_after) from None
        except discord.HTTPException as exc:
            raise _http_error(exc, message) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise DeliveryError(f"discord network error: {type(exc).__name__}", retryable=True) from None
        except discord.ClientException as exc:  # e.g. the client is closing
            raise DeliveryError(f"discord client error: {type(exc).__name__}", retryable=True) from None

    async def _deliver(self, message: OutboundMessage) -> None:
        if message.kind == OutboundKind.UPSERT_CARD:
            await self._upsert_card(message)
        elif message.kind == OutboundKind.CLOSE_THREAD:
            await self._threads_of(message).close(message)
        elif message.kind == OutboundKind.DELETE_THREAD:
            await self._threads_of(message).delete(message)
        else:
            text, uploads = await self._carrier.gather(message)
            if message.audience == Audience.ESCALATION:
                text += await self._thread_link(message)
            if message.audience == Audience.STAFF_THREAD:
                await self._threads_of(message).send(message, text, uploads)
            elif message.audience == Audience.STAFF_DIRECT:  # chat is the staff member's user id
                user = await self._client.fetch_user(int(message.chat or "0"))
                await send_parts(await user.create_dm(), text, uploads, message.buttons)
            else:
                target = self._client.get_partial_messageable(self._channel_of(message))
                await send_parts(target, text, uploads, message.buttons)

    async def _thread_link(self, message: OutboundMessage) -> str:
        """Alerts link to the conversation's thread, so a professional is one click away from it."""
        if message.conversation is None or self._staff is None or self._threads is None:
            return ""
        thread = await self._threads.thread_of(message.conversation)
        channel = self._client.get_channel(self._staff.volunteer)
        guild = getattr(channel, "guild", None)
        if thread is None or guild is None:
            return ""
        return f"\nOpen: https://discord.com/channels/{guild.id}/{thread}"

    def _channel_of(self, message: OutboundMessage) -> int:
        if message.audience != Audience.SEEKER:
            return self._staff_channel(message)
        if message.chat is None or not message.chat.isdigit():
            raise DeliveryError("message for a person without a DM channel", retryable=False)
        return int(message.chat)

    def _staff_channel(self, message: OutboundMessage) -> int:
        if self._staff is None:
            raise _not_staff_platform(message)
        return self._staff.escalation if message.audience == Audience.ESCALATION else self._staff.volunteer

    def _threads_of(self, message: OutboundMessage) -> ConversationThreads:
        if self._threads is None:
            raise _not_staff_platform(message)
        return self._threads

    async def _upsert_card(self, message: OutboundMessage) -> None:
        """Edit the conversation's queue card (or its episode's first alert, in the escalation channel) in place
        (buttons go when the router sends none), or post it."""
        conv = conversation_of(message)
        channel = self._client.get_partial_messageable(self._staff_channel(message))
        alert = message.audience == Audience.ESCALATION
        field = ALERT_FIELD if alert else CARD_FIELD
        text = (message.text + (await self._thread_link(message) if alert else ""))[:MAX_TEXT]
        card = await self._conversations.get_field(conv, field)
        if card is not None:
            try:
                await channel.get_partial_message(int(card)).edit(content=text, view=buttons_view(message.buttons))
                return
            except discord.NotFound:
                log.info("queue card of %s was deleted; posting a new one", conv)
        sent = await send_parts(channel, text, (), message.buttons)
        if sent is not None:
            await self._conversations.set_field(conv, field, str(sent.id))


def _not_staff_platform(message: OutboundMessage) -> DeliveryError:
    return DeliveryError(f"{message.audience} message, but the staff workspace is not on discord", retryable=False)


def _http_error(exc: discord.HTTPException, message: OutboundMessage) -> DeliveryError:
    """Discord's answer as a retry decision. Only the status and Discord's error code are kept (no text)."""
    reason = f"discord {exc.status} (code {exc.code})"
    if exc.status == 429:  # discord.py already retried it a few times
        return DeliveryError(reason, retryable=True, retry_after=_retry_after(exc))
    if exc.status >= 500:
        return DeliveryError(reason, retryable=True)
    unreachable = message.audience in (Audience.SEEKER, Audience.STAFF_DIRECT) and exc.code == CANNOT_MESSAGE_USER
    return DeliveryError(reason, retryable=False, unreachable=unreachable)


def _retry_after(exc: discord.HTTPException) -> float:
    raw = exc.response.headers.get("Retry-After") if exc.response is not None else None
    try:
        return max(float(raw), 0.0) if raw is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER
