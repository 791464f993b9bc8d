"""Per-installation secrets for the local and test settings, created on first use."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path


def local_secret(path: Path, kind: str) -> str:
    """Return the secret stored at path, creating it (mode 0600) the first time."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fernet":
        value = base64.urlsafe_b64encode(os.urandom(32)).decode()
    else:
        value = secrets.token_urlsafe(50)
    # O_EXCL: when two processes start together, the loser reads the winner's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value
