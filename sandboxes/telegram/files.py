"""Stored files: uploads from bots and from injected user messages, served by `getFile` and `/file/bot...`."""

from __future__ import annotations

import mimetypes
import secrets
import struct
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from sandboxes.telegram.errors import bad_request
from sandboxes.telegram.model import FileMeta, Media, MediaKind

# Real file_ids start with a per-type prefix; keeping them makes captured payloads look familiar.
_ID_PREFIX = {MediaKind.PHOTO: "AgAC", MediaKind.DOCUMENT: "BQAC", MediaKind.VOICE: "AwAC", MediaKind.STICKER: "CAAC"}
_FOLDER = {MediaKind.PHOTO: "photos", MediaKind.DOCUMENT: "documents", MediaKind.VOICE: "voice"}
_SUFFIX = {MediaKind.PHOTO: ".jpg", MediaKind.VOICE: ".oga", MediaKind.STICKER: ".webp"}
_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses bigger files (Bot API docs, getFile)
DEFAULT_PHOTO_SIZE = (800, 600)


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG or JPEG, read from its header; None for other data."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if not data.startswith(b"\xff\xd8"):
        return None
    index = 2
    while index + 9 < len(data) and data[index] == 0xFF:
        marker = data[index + 1]
        (length,) = struct.unpack(">H", data[index + 2 : index + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return int(width), int(height)
        index += 2 + int(length)
    return None


@dataclass(frozen=True)
class StoredFile:
    """A file's bytes and the media it belongs to (so a file_id can be sent again)."""

    meta: FileMeta
    data: bytes
    media: Media


@dataclass(frozen=True)
class MediaSpec:
    """What the uploader said about a file besides its bytes."""

    file_name: str | None = None
    mime_type: str | None = None
    duration: int = 0
    emoji: str | None = None
    width: int | None = None
    height: int | None = None


class FileStore:
    """All files of one sandbox, by file_id and by download path."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._count = 0

    def _meta(self, kind: MediaKind, data: bytes, file_name: str | None) -> FileMeta:
        self._count += 1
        suffix = _SUFFIX.get(kind) or (PurePosixPath(file_name).suffix if file_name else "") or ".bin"
        folder = _FOLDER.get(kind, "stickers")
        return FileMeta(
            file_id=f"{_ID_PREFIX[kind]}{secrets.token_urlsafe(24)}",
            file_unique_id=f"AQAD{secrets.token_urlsafe(9)}",
            file_size=len(data),
            file_path=f"{folder}/file_{self._count}{suffix}",
        )

    def store(self, kind: MediaKind, data: bytes, spec: MediaSpec) -> Media:
        """Keep `data` and return the Media a message carrying it has."""
        if kind is MediaKind.DOCUMENT and spec.mime_type is None and spec.file_name:
            spec = replace(spec, mime_type=mimetypes.guess_type(spec.file_name)[0])
        width, height = spec.width, spec.height
        if kind is MediaKind.PHOTO and (width is None or height is None):
            width, height = image_size(data) or DEFAULT_PHOTO_SIZE
        meta = self._meta(kind, data, spec.file_name)
        thumb = self._meta(kind, data, None) if kind is MediaKind.PHOTO else None
        media = Media(
            kind=kind,
            file=meta,
            thumb=thumb,
            width=width or 0,
            height=height or 0,
            duration=spec.duration,
            file_name=spec.file_name,
            mime_type=spec.mime_type,
            emoji=spec.emoji,
        )
        for part in (meta, thumb):
            if part is not None:
                stored = StoredFile(part, data, media)
                self._by_id[part.file_id] = stored
                self._by_path[part.file_path] = stored
        return media

    def media_for(self, file_id: str, kind: MediaKind) -> Media:
        """The media behind an existing file_id, for sending it again as `kind`."""
        stored = self._by_id.get(file_id)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.media.kind is not kind:
            raise bad_request(f"can't use file of type {stored.media.kind.title()} as {kind.title()}")
        return stored.media

    def meta(self, file_id: str) -> FileMeta:
        """The `getFile` answer for a file_id."""
        stored = self._by_id.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.meta.file_size > _DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return stored.meta

    def read(self, file_path: str) -> bytes | None:
        """The bytes served at `/file/bot<token>/<file_path>`."""
        stored = self._by_path.get(file_path)
        return stored.data if stored else None
