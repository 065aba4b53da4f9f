"""The vault of this deployment, from settings: ``CRMSYNC_SECRET_KEY`` (current) and
``CRMSYNC_PREVIOUS_SECRET_KEYS`` (comma-separated, still decrypting during a rotation).

Without a key outside production, dev and demo installs generate one into
``CRMSYNC_SECRET_KEY_FILE`` (mode 0600) and say so in the log; test mode uses a fixed,
publicly known key, also logged. Production refuses to start without a key (settings).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import structlog

from crmsync.config import Settings
from crmsync.integrations.vault import Vault, generate_secret_key

__all__ = ["TEST_KEY", "previous_keys", "vault_for"]

# known to everyone: only ever used when mode=test and no key is configured
TEST_KEY = "crmsync-test-mode-key-not-secret-000000"
_log = structlog.get_logger("crmsync.integrations.keys")


def previous_keys(settings: Settings) -> tuple[str, ...]:
    """The keys being rotated out."""
    if settings.previous_secret_keys is None:
        return ()
    raw = settings.previous_secret_keys.get_secret_value()
    return tuple(k.strip() for k in raw.split(",") if k.strip())


@lru_cache(maxsize=4)
def _key_file(path: Path) -> str:
    """The generated key kept in ``path`` (made on first use); logged once per process."""
    _log.warning(
        "vault.dev_key_file",
        path=str(path),
        hint="set CRMSYNC_SECRET_KEY for anything but a local trial",
    )
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(generate_secret_key() + "\n")
        _log.warning("vault.key_file_created", path=str(path))
    return path.read_text().strip()


def current_key(settings: Settings) -> str:
    """The key that encrypts, from the environment, the dev key file, or the test key."""
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value()
    if settings.mode == "test":
        _warn_test_key()
        return TEST_KEY
    return _key_file(Path(settings.secret_key_file).resolve())


@lru_cache(maxsize=1)
def _warn_test_key() -> None:
    _log.warning("vault.test_key", reason="CRMSYNC_SECRET_KEY is unset in test mode")


@lru_cache(maxsize=8)
def _vault(current: str, previous: tuple[str, ...]) -> Vault:
    return Vault.from_secret_key(current, previous)


def vault_for(settings: Settings) -> Vault:
    """The vault for these settings (one per key set, derived once)."""
    return _vault(current_key(settings), previous_keys(settings))
