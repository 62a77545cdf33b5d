"""Posting one outbound message into a Discord channel: split at 2,000 characters, files, buttons."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from adapters.discord.files import Upload
from routing.model import Button

MAX_TEXT = 2000  # Discord's limit per message; longer texts are sent in parts
MAX_BUTTON_LABEL = 80
MAX_BUTTONS = 25  # Discord: at most 5 action rows of 5 buttons; discord.py's View fills the rows in order


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Parts of at most `limit` characters, cut at a line break or space when one is near the end."""
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = max(rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        if cut < limit // 2:  # no separator near the end: a hard cut
            parts.append(rest[:limit])
            rest = rest[limit:]
        else:  # the separator itself is dropped
            parts.append(rest[:cut])
            rest = rest[cut + 1 :]
    if rest:
        parts.append(rest)
    return parts


def buttons_view(buttons: Sequence[Button]) -> discord.ui.View | None:
    """Rows of buttons whose custom_id is the action the router expects back ("take c-3", "ack e-1").

    The view is stopped at once: presses reach the bridge through `on_interaction`, and a live view would
    stay in discord.py's view store for as long as the process runs.
    """
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in buttons[:MAX_BUTTONS]:
        view.add_item(
            discord.ui.Button(
                label=button.label[:MAX_BUTTON_LABEL], custom_id=button.action[:100], style=discord.ButtonStyle.primary
            )
        )
    view.stop()
    return view


async def send_parts(
    target: discord.abc.Messageable, text: str, uploads: Sequence[Upload], buttons: Sequence[Button]
) -> discord.Message | None:
    """Send text in parts; files go with the first part, buttons with the last. Returns the last message."""
    parts = split_text(text) or [""]
    last: discord.Message | None = None
    for index, part in enumerate(parts):
        files = [u.as_file() for u in uploads] if index == 0 else []
        view = buttons_view(buttons) if index == len(parts) - 1 else None
        if not part and not files and view is None:
            continue  # Discord refuses an empty message (50006)
        if view is None:
            last = await target.send(content=part or None, files=files)
        else:
            last = await target.send(content=part or None, files=files, view=view)
    return last
