"""Decoding Redis replies: the client returns bytes (RESP2, no decode_responses); keys and ids are text."""

from __future__ import annotations


def text(value: bytes | str | int) -> str:
    """A reply value as text."""
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


def as_bytes(value: bytes | str) -> bytes:
    """A reply value as bytes (ciphertext)."""
    return value if isinstance(value, bytes) else value.encode()
