"""Telegram files for other platforms: download by file id within the size limit (cross-platform relay)."""

from __future__ import annotations

from telegram import Bot
from telegram.error import TelegramError

from routing.delivery import MAX_FOREIGN_FILE_BYTES, DeliveryError
from routing.model import Attachment

_DEFAULT_NAMES = {"photo": "photo.jpg", "voice": "voice.ogg", "sticker": "sticker.webp", "video": "video.mp4"}


async def download(bot: Bot, attachment: Attachment) -> tuple[bytes, str]:
    """The file's bytes and a file name; DeliveryError (not retryable) when it is larger than the limit."""
    if attachment.size is not None and attachment.size > MAX_FOREIGN_FILE_BYTES:
        raise DeliveryError("file too large to carry over", retryable=False)
    try:
        file = await bot.get_file(attachment.ref)
        if file.file_size is not None and file.file_size > MAX_FOREIGN_FILE_BYTES:
            raise DeliveryError("file too large to carry over", retryable=False)
        data = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        raise DeliveryError(f"telegram file could not be fetched: {type(exc).__name__}", retryable=True) from None
    if len(data) > MAX_FOREIGN_FILE_BYTES:
        raise DeliveryError("file too large to carry over", retryable=False)
    return data, attachment.filename or _DEFAULT_NAMES.get(attachment.kind.value, "file.bin")
