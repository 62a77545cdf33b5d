"""Encryption of message text at rest (AES-256-GCM), with key ids so keys can be rotated.

The key comes from the environment, never from Redis. A token is `key id (1 byte) | nonce (12) | ciphertext`,
where the key id is the first byte of the key's SHA-256: decryption tries the configured keys with that id,
so entries written before a rotation stay readable while the old key is still configured as a previous key.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class CipherError(ValueError):
    """Ciphertext that cannot be decrypted with any configured key (tampered, or key missing)."""


def generate_key() -> str:
    """A new random key, base64-encoded, for `PEERBRIDGE_SECURITY__ENCRYPTION_KEY`."""
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()


def decode_key(text: str) -> bytes:
    """Decode a base64 key and check its length; raises ValueError in plain words."""
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode())
    except (ValueError, TypeError):
        raise ValueError("the encryption key is not valid base64") from None
    if len(raw) != 32:
        raise ValueError("the encryption key must be 32 bytes (44 base64 characters)")
    return raw


class TextCipher:
    """Encrypts and decrypts payloads; the first key encrypts, all keys decrypt."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys or len(keys) > 255:
            raise ValueError("between 1 and 255 encryption keys are needed")
        self._keys = [(hashlib.sha256(k).digest()[0], AESGCM(k)) for k in keys]

    def encrypt(self, plaintext: bytes) -> bytes:
        key_id, aead = self._keys[0]
        nonce = os.urandom(12)
        return bytes([key_id]) + nonce + aead.encrypt(nonce, plaintext, None)

    def decrypt(self, token: bytes) -> bytes:
        if len(token) < 13:
            raise CipherError("ciphertext too short")
        for key_id, aead in self._keys:
            if key_id != token[0]:
                continue
            try:
                return aead.decrypt(token[1:13], token[13:], None)
            except InvalidTag:
                continue
        raise CipherError("ciphertext cannot be decrypted with any configured key")
