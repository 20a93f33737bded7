"""Secrets kept in DATA_DIR when the configuration names none: the JWT secret, AES keys, Connect HMAC keys.

Embedded defaults must survive restarts (a token printed by `docusign-agent token` has to keep working) and
must never be a constant in the repository, so each is generated once into `DATA_DIR/secrets` (directory 0700,
files 0600) and read back afterwards. These functions read files: call them at start-up or off the event loop.
"""

from __future__ import annotations

import base64
import os
import secrets as _random
from collections.abc import Callable
from pathlib import Path

from docusign_agent.settings import Settings


def data_dir_secret(data_dir: Path, name: str, make: Callable[[], str]) -> str:
    """The secret file `name` under `data_dir/secrets`, created from `make()` the first time.

    Several processes may start at once (`serve --workers N`): the value is written whole to a private
    temporary file and then hard-linked into place, which fails if the name exists. So a reader never sees a
    half-written file, and a process that loses the race reads the winner's value.
    """
    path = data_dir / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{name}.{os.getpid()}.{_random.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(make())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def random_secret(nbytes: int = 32) -> str:
    return base64.urlsafe_b64encode(_random.token_bytes(nbytes)).decode().rstrip("=")


def generated_secret(settings: Settings, name: str, nbytes: int = 32) -> str:
    """A random urlsafe secret kept in DATA_DIR under `name`."""
    return data_dir_secret(settings.data_dir, name, lambda: random_secret(nbytes))


def jwt_secret(settings: Settings) -> str:
    return settings.auth_jwt_secret or generated_secret(settings, "jwt_secret")


def encryption_keys(settings: Settings) -> list[str]:
    return settings.credentials_encryption_key or [generated_secret(settings, "credentials_key")]


def connect_hmac_keys(settings: Settings) -> list[str]:
    return settings.docusign_connect_hmac_keys or [generated_secret(settings, "connect_hmac_key")]
