"""The two secrets peerbridge needs: the pseudonym secret and the text encryption key.

In production both come from the environment. For a first run on one machine they are generated once and
kept beside the data (`storage.dir`, mode 0600), so restarts keep the same pseudonyms and can read old text.
Redis never holds either.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from routing.store.cipher import decode_key, generate_key


def _stored(path: Path, make: str) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(make)
    return make


def pseudonym_secret(configured: SecretStr | None, storage_dir: Path) -> bytes:
    """The configured secret, else the one generated for this data directory."""
    if configured is not None:
        return configured.get_secret_value().encode()
    return _stored(storage_dir / "pseudonym.secret", secrets.token_urlsafe(32)).encode()


def encryption_keys(configured: SecretStr | None, previous: SecretStr | None, storage_dir: Path) -> list[bytes]:
    """Current key first, then previous keys (for rotation); raises ValueError naming a malformed key."""
    current = configured.get_secret_value() if configured else _stored(storage_dir / "encryption.key", generate_key())
    keys = [decode_key(current)]
    if previous is not None:
        keys.extend(decode_key(k) for k in previous.get_secret_value().split(",") if k.strip())
    return keys
