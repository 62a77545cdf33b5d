"""Files across the bridge: download a Discord attachment, and gather the files of an outbound message.

Attachments travel by reference (a URL on Discord, a file id on Telegram). To deliver one on Discord the
bytes are fetched (ours from Discord's CDN, another platform's through the `ForeignFileFetcher` the
composition root provides) and uploaded again: Discord's CDN links expire, so posting a link would not last.
A file that cannot be carried becomes a short note in the text, never a silent loss.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import discord
import yarl

from routing.delivery import MAX_FOREIGN_FILE_BYTES, DeliveryError, ForeignFileFetcher
from routing.inline_files import inline_bytes
from routing.model import Attachment, OutboundMessage, Platform

log = logging.getLogger(__name__)

DISCORD_FILE_HOSTS = frozenset({"cdn.discordapp.com", "media.discordapp.net"})
LIMIT_MB = MAX_FOREIGN_FILE_BYTES // (1024 * 1024)
_TOO_LARGE = "file too large to carry over"
_UNAVAILABLE_STATUSES = (403, 404, 410)  # expired or deleted CDN links: trying again will not help
_CHUNK = 64 * 1024

Download = Callable[[Attachment], Awaitable[tuple[bytes, str]]]


@dataclass(frozen=True, slots=True)
class Upload:
    """The bytes of one file to attach, kept so a send can be repeated (discord.py closes its File objects)."""

    data: bytes = field(repr=False)
    filename: str

    def as_file(self) -> discord.File:
        return discord.File(io.BytesIO(self.data), filename=self.filename)


class DiscordFiles:
    """Downloads attachments from Discord's CDN with a bounded size, over the adapter's own HTTP session."""

    def __init__(self, hosts: frozenset[str]) -> None:
        self._hosts = hosts
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60, sock_connect=10))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def download(self, attachment: Attachment) -> tuple[bytes, str]:
        """The attachment's bytes and file name; DeliveryError (not retryable) when too large or gone."""
        if attachment.size is not None and attachment.size > MAX_FOREIGN_FILE_BYTES:
            raise DeliveryError(_TOO_LARGE, retryable=False)
        url = yarl.URL(attachment.ref)
        if url.host not in self._hosts:
            raise DeliveryError("attachment is not on discord's file host", retryable=False)
        if self._session is None:
            raise DeliveryError("discord file downloads are not started", retryable=True)
        try:
            async with self._session.get(url) as response:
                if response.status in _UNAVAILABLE_STATUSES:
                    raise DeliveryError(f"discord file unavailable ({response.status})", retryable=False)
                if response.status != 200:
                    raise DeliveryError(f"discord file download failed ({response.status})", retryable=True)
                data = await _read_bounded(response.content)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"discord file download failed: {type(exc).__name__}", retryable=True) from None
        return data, attachment.filename or url.name or "file"


async def _read_bounded(stream: aiohttp.StreamReader) -> bytes:
    """Read at most MAX_FOREIGN_FILE_BYTES; a larger body (size unknown up front) is refused, not buffered."""
    buffer = bytearray()
    async for chunk in stream.iter_chunked(_CHUNK):
        buffer += chunk
        if len(buffer) > MAX_FOREIGN_FILE_BYTES:
            raise DeliveryError(_TOO_LARGE, retryable=False)
    return bytes(buffer)


class AttachmentCarrier:
    """Turns an outbound message's attachments into uploads, or into notes when they cannot be carried."""

    def __init__(self, own: Download, foreign: ForeignFileFetcher | None) -> None:
        self._own = own
        self._foreign = foreign

    async def gather(self, message: OutboundMessage) -> tuple[str, list[Upload]]:
        """The text to send (with a note per file that could not be carried) and the files to attach.

        Raises DeliveryError(retryable=True) when a fetch may succeed later: nothing has been sent yet.
        """
        uploads: list[Upload] = []
        notes: list[str] = []
        source = message.source_platform or Platform.DISCORD
        for attachment in message.attachments:
            try:
                data, filename = await self._fetch(attachment, source)
            except DeliveryError as exc:
                if exc.retryable:
                    raise
                notes.append(_note(attachment, source, exc))
                log.info("a %s from %s was not carried over: %s", attachment.kind, source, exc)
                continue
            uploads.append(Upload(data, filename))
        return "\n".join([message.text, *notes]).strip(), uploads

    async def _fetch(self, attachment: Attachment, source: Platform) -> tuple[bytes, str]:
        made = inline_bytes(attachment)  # a file the service wrote (a safety plan): its bytes are in the message
        if made is not None:
            return made, attachment.filename or "file.txt"
        if source == Platform.DISCORD:
            return await self._own(attachment)
        if self._foreign is None:
            raise DeliveryError(f"no way to fetch files from {source}", retryable=False)
        return await self._foreign(attachment, source)


def _note(attachment: Attachment, source: Platform, error: DeliveryError) -> str:
    too_large = (attachment.size or 0) > MAX_FOREIGN_FILE_BYTES or "too large" in str(error).lower()
    if too_large:
        return f"(a {attachment.kind} was sent but is too large to carry over (limit {LIMIT_MB} MB))"
    where = f" on {source}" if source != Platform.DISCORD else ""
    return f"(a {attachment.kind} was sent{where} but could not be carried over)"
