"""Message bodies as clients send them: JSON, or multipart with `payload_json` and `files[n]`.

Validation mirrors the limits Discord enforces with a 50035 "Invalid Form Body"
(https://discord.com/developers/docs/resources/message#create-message).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from sandboxes.discord import errors
from sandboxes.discord.model import (
    Attachment,
    JsonObject,
    Snowflake,
    SnowflakeFactory,
    Upload,
    walk_components,
)

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_CUSTOM_ID = 100
MAX_ROWS = 5  # action rows per message, and buttons per row
_FILE_FIELD = re.compile(r"^files\[(\d+)\]$")
_MENTION = re.compile(r"<@!?(\d+)>")


@dataclass(frozen=True)
class MessageDraft:
    """The fields of a create or edit request. None means "not given" (an edit keeps the old value)."""

    content: str | None = field(default=None, repr=False)
    embeds: tuple[JsonObject, ...] | None = field(default=None, repr=False)
    components: tuple[JsonObject, ...] | None = None
    attachment_refs: tuple[JsonObject, ...] | None = None
    uploads: Mapping[int, Upload] = field(default_factory=dict)
    flags: int | None = None
    reference_id: Snowflake | None = None

    def is_empty(self) -> bool:
        """Whether a new message from this draft would show nothing."""
        return not (self.content or self.embeds or self.components or self.uploads)


def user_draft(content: str, uploads: tuple[Upload, ...] = (), reply_to: Snowflake | None = None) -> MessageDraft:
    """A draft for a message a (simulated) person writes."""
    return MessageDraft(content=content, uploads=dict(enumerate(uploads)), reference_id=reply_to)


def parse_draft(payload: JsonObject, uploads: Mapping[int, Upload]) -> MessageDraft:
    """Validates a create/edit payload."""
    content = _content(payload)
    embeds = _object_list(payload, "embeds")
    if embeds is not None and len(embeds) > MAX_EMBEDS:
        raise errors.invalid_form("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    components = _object_list(payload, "components")
    if components:
        _check_components(components)
    reference = payload.get("message_reference")
    reference_id = reference.get("message_id") if isinstance(reference, dict) else None
    flags = payload.get("flags")
    return MessageDraft(
        content=content,
        embeds=embeds,
        components=components,
        attachment_refs=_object_list(payload, "attachments"),
        uploads=uploads,
        flags=flags if isinstance(flags, int) else None,
        reference_id=Snowflake(int(reference_id)) if reference_id is not None else None,
    )


def _content(payload: JsonObject) -> str | None:
    if "content" not in payload:
        return None
    content = payload["content"]
    text = "" if content is None else str(content)
    if len(text) > MAX_CONTENT:
        raise errors.invalid_form("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    return text


def _object_list(payload: JsonObject, key: str) -> tuple[JsonObject, ...] | None:
    if key not in payload:
        return None
    value = payload[key]
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise errors.invalid_form(key, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType.")
    return tuple(json.loads(json.dumps(value)))  # a private deep copy


def _check_components(components: tuple[JsonObject, ...]) -> None:
    """Discord's limits: at most 5 action rows, at most 5 buttons in a row, custom ids unique and short."""
    if len(components) > MAX_ROWS or any(len(row.get("components") or []) > MAX_ROWS for row in components):
        raise errors.invalid_form("components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
    seen: set[str] = set()
    for component in walk_components(components):
        custom_id = component.get("custom_id")
        if custom_id is None:
            continue
        if not isinstance(custom_id, str) or len(custom_id) > MAX_CUSTOM_ID:
            raise errors.invalid_form("components", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        if custom_id in seen:
            raise errors.invalid_form(
                "components", "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
            )
        seen.add(custom_id)


def mentions_in(content: str) -> tuple[Snowflake, ...]:
    """User ids mentioned as <@id> or <@!id>."""
    return tuple(dict.fromkeys(Snowflake(int(m)) for m in _MENTION.findall(content)))


def build_attachments(
    draft: MessageDraft, existing: tuple[Attachment, ...], ids: SnowflakeFactory
) -> tuple[Attachment, ...]:
    """The attachments after a create or edit: kept old ones plus new uploads, in the order given."""
    if draft.attachment_refs is None:
        return existing + tuple(_new_attachment(u, None, ids) for _, u in sorted(draft.uploads.items()))
    by_id = {str(a.id): a for a in existing}
    result: list[Attachment] = []
    for ref in draft.attachment_refs:
        ref_id = str(ref.get("id"))
        if ref_id in by_id:
            result.append(by_id[ref_id])
        elif ref_id.isdigit() and int(ref_id) in draft.uploads:
            result.append(_new_attachment(draft.uploads[int(ref_id)], ref, ids))
        else:
            raise errors.invalid_form("attachments", "ATTACHMENT_NOT_FOUND", "Unknown attachment")
    return tuple(result)


def _new_attachment(upload: Upload, ref: JsonObject | None, ids: SnowflakeFactory) -> Attachment:
    ref = ref or {}
    return Attachment(
        id=ids.next(),
        filename=str(ref.get("filename") or upload.filename),
        content_type=upload.content_type,
        data=upload.data,
        description=ref.get("description", upload.description),
    )


async def read_json(request: web.Request) -> Any:
    """The JSON body (an empty body reads as {}); malformed JSON is Discord's 50109."""
    raw = await request.read()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise errors.ApiError(400, 50109, "The request body contains invalid JSON.") from None


async def read_message_body(request: web.Request) -> tuple[JsonObject, dict[int, Upload]]:
    """A JSON body, or a multipart body with `payload_json` and `files[n]` parts."""
    if not request.content_type.startswith("multipart/"):
        body = await read_json(request)
        if not isinstance(body, dict):
            raise errors.invalid_form("_root", "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return body, {}
    payload: JsonObject = {}
    uploads: dict[int, Upload] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "payload_json":
            payload = json.loads(await part.text())
            continue
        match = _FILE_FIELD.match(part.name or "")
        if match:
            content_type = part.headers.get("Content-Type", "application/octet-stream")
            data = bytes(await part.read(decode=False))
            uploads[int(match.group(1))] = Upload(part.filename or "file", data, content_type)
    return payload, uploads
