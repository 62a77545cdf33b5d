"""Files the bridge writes itself (a person's safety plan), carried in an attachment as a `data:` URI.

Relayed files are references (a platform's file id or URL); a file the service makes has no such home, so its
bytes travel inside the outbound entry (encrypted at rest like every outbound text) and the adapter uploads
them. Only small text files are made this way.
"""

from __future__ import annotations

import base64
import binascii

from routing.model import Attachment

PREFIX = "data:"


def inline_bytes(attachment: Attachment) -> bytes | None:
    """The bytes of a `data:...;base64,` attachment; None for a reference (or a malformed URI)."""
    if not attachment.ref.startswith(PREFIX):
        return None
    head, _, body = attachment.ref.partition(",")
    if not head.endswith(";base64"):
        return None
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return None


def inline_ref(data: bytes, mime_type: str) -> str:
    return f"{PREFIX}{mime_type};base64,{base64.b64encode(data).decode()}"
