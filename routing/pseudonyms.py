"""Stable, non-reversible aliases for people and opaque keys for Redis: staff and logs never see raw ids.

An alias is derived with HMAC-SHA256 from the platform, the platform's user id and a secret, so the same
person always gets the same alias, and nobody without the secret can go back from alias to account.
"""

from __future__ import annotations

import hashlib
import hmac

from routing.model import Platform, Pseudonym, UserId

_ADJECTIVES = (
    "Amber", "Brave", "Calm", "Coral", "Dawn", "Gentle", "Golden", "Hazel", "Indigo", "Juniper", "Kind",
    "Linen", "Maple", "Misty", "Olive", "Pearl", "Quiet", "River", "Sage", "Silver", "Sunny", "Teal",
    "Velvet", "Willow",
)  # fmt: skip
_NOUNS = (
    "Badger", "Bluebird", "Crane", "Dolphin", "Falcon", "Fern", "Finch", "Fox", "Heron", "Lark", "Lynx",
    "Meadow", "Moth", "Otter", "Owl", "Pine", "Robin", "Seal", "Sparrow", "Swan", "Thistle", "Wren",
    "Yarrow", "Zephyr",
)  # fmt: skip


class Pseudonymiser:
    """Derives aliases and opaque keys from platform identities with one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the pseudonym secret must be at least 16 bytes")
        self._secret = secret

    def _digest(self, platform: Platform, user: str) -> bytes:
        return hmac.new(self._secret, f"{platform}:{user}".encode(), hashlib.sha256).digest()

    def alias(self, platform: Platform, user: UserId) -> Pseudonym:
        """A readable alias such as "Quiet Otter 42" (24*24*100 combinations; collisions are harmless)."""
        d = self._digest(platform, user)
        adjective = _ADJECTIVES[d[0] % len(_ADJECTIVES)]
        noun = _NOUNS[d[1] % len(_NOUNS)]
        number = int.from_bytes(d[2:4], "big") % 100
        return Pseudonym(f"{adjective} {noun} {number:02d}")

    def key(self, platform: Platform, user: str) -> str:
        """An opaque, stable key for Redis key names (flood counters, person -> conversation)."""
        return self._digest(platform, user).hex()[:24]
