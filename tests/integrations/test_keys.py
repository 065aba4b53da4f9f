"""Which key the vault uses: the configured one, a generated dev key file, or the test key."""

from __future__ import annotations

import stat
from pathlib import Path

from crmsync.config import Settings
from crmsync.integrations.keys import TEST_KEY, current_key, previous_keys, vault_for
from crmsync.integrations.vault import Vault

KEY = "k" * 40


def test_the_configured_key_wins_and_previous_keys_still_decrypt() -> None:
    old = "o" * 40
    settings = Settings(secret_key=KEY, previous_secret_keys=f" {old} ,, p{'p' * 39} ")
    assert current_key(settings) == KEY
    assert previous_keys(settings) == (old, "p" * 40)
    sealed = Vault.from_secret_key(old).encrypt("x", workspace_id=1, integration_id=2)
    vault = vault_for(settings)
    assert vault.decrypt(sealed, workspace_id=1, integration_id=2).reveal() == "x"
    assert vault.needs_rotation(sealed)


def test_dev_mode_generates_a_private_key_file_once(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "secret.key"
    settings = Settings(mode="dev", secret_key_file=str(path))
    first = current_key(settings)
    assert path.read_text().strip() == first and len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert current_key(Settings(mode="demo", secret_key_file=str(path))) == first


def test_test_mode_without_a_key_uses_the_known_test_key() -> None:
    assert current_key(Settings(mode="test")) == TEST_KEY
