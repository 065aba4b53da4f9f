"""Credentials vault: binding, rotation without downtime, masking."""

from __future__ import annotations

import threading

import pytest

from crmsync.connectors.http.secret import Secret, SecretDict, mask
from crmsync.integrations.vault import Keyring, Vault, VaultError, generate_secret_key, key_id

OLD = "old-secret-key-" + "o" * 32
NEW = "new-secret-key-" + "n" * 32
WS, INTEG = "ws-1", "integ-1"


def _vault(current: str = OLD, previous: tuple[str, ...] = ()) -> Vault:
    return Vault.from_secret_key(current, previous)


def test_round_trip() -> None:
    vault = _vault()
    token = vault.encrypt("pat-na1-1234567890", workspace_id=WS, integration_id=INTEG)
    assert "pat-na1" not in token
    assert token.startswith("v1.")
    secret = vault.decrypt(token, workspace_id=WS, integration_id=INTEG)
    assert secret.reveal() == "pat-na1-1234567890"


def test_same_plaintext_encrypts_differently() -> None:
    vault = _vault()
    a = vault.encrypt("x", workspace_id=WS, integration_id=INTEG)
    b = vault.encrypt("x", workspace_id=WS, integration_id=INTEG)
    assert a != b


@pytest.mark.parametrize(
    ("workspace", "integration"), [(WS, "integ-2"), ("ws-2", INTEG), ("ws-2", "integ-2")]
)
def test_ciphertext_moved_to_another_integration_fails(workspace: str, integration: str) -> None:
    vault = _vault()
    token = vault.encrypt("secret-value", workspace_id=WS, integration_id=INTEG)
    with pytest.raises(VaultError) as caught:
        vault.decrypt(token, workspace_id=workspace, integration_id=integration)
    assert "secret-value" not in str(caught.value)


def test_tampered_ciphertext_fails() -> None:
    vault = _vault()
    token = vault.encrypt("secret-value", workspace_id=WS, integration_id=INTEG)
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(VaultError):
        vault.decrypt(flipped, workspace_id=WS, integration_id=INTEG)


@pytest.mark.parametrize("bad", ["", "v1.abc", "v2.abc.def", "v1.abc.!!!", "v1.abc.AAAA"])
def test_malformed_ciphertext_is_a_vault_error(bad: str) -> None:
    with pytest.raises(VaultError):
        _vault().decrypt(bad, workspace_id=WS, integration_id=INTEG)


def test_unknown_key_id_fails() -> None:
    token = _vault(OLD).encrypt("x", workspace_id=WS, integration_id=INTEG)
    with pytest.raises(VaultError, match="no key"):
        _vault(NEW).decrypt(token, workspace_id=WS, integration_id=INTEG)


def test_short_secret_key_is_refused() -> None:
    with pytest.raises(VaultError, match="at least 32"):
        Vault.from_secret_key("short")
    assert len(generate_secret_key()) >= 32


def test_rotation_keeps_old_ciphertexts_readable_and_reencrypts() -> None:
    old_token = _vault(OLD).encrypt("refresh-abc", workspace_id=WS, integration_id=INTEG)
    vault = _vault(NEW, (OLD,))
    # readable before rotation
    assert vault.decrypt(old_token, workspace_id=WS, integration_id=INTEG).reveal() == "refresh-abc"
    assert vault.needs_rotation(old_token)
    new_token = vault.rotate(old_token, workspace_id=WS, integration_id=INTEG)
    assert key_id(new_token) == vault.keyring.current.kid != key_id(old_token)
    assert not vault.needs_rotation(new_token)
    assert vault.rotate(new_token, workspace_id=WS, integration_id=INTEG) == new_token
    # after rotation the old key can be dropped
    assert (
        _vault(NEW).decrypt(new_token, workspace_id=WS, integration_id=INTEG).reveal()
        == "refresh-abc"
    )


def test_rotation_keeps_the_binding() -> None:
    old_token = _vault(OLD).encrypt("x", workspace_id=WS, integration_id=INTEG)
    vault = _vault(NEW, (OLD,))
    with pytest.raises(VaultError):
        vault.rotate(old_token, workspace_id=WS, integration_id="integ-2")


def test_concurrent_reads_during_rotation_lose_nothing() -> None:
    plaintexts = {f"integ-{n}": f"token-{n}-" + "z" * n for n in range(300)}
    old = _vault(OLD)
    rows = {i: old.encrypt(p, workspace_id=WS, integration_id=i) for i, p in plaintexts.items()}
    vault = _vault(NEW, (OLD,))  # every process runs with the new keyring before rotating
    failures: list[str] = []
    reads = [0]
    done = threading.Event()
    lock = threading.Lock()

    started = threading.Barrier(5)  # four readers and the rotator start together

    def reader() -> None:
        started.wait(5)
        while True:
            finished = done.is_set()  # one more full pass after rotation ends
            for integ, expected in plaintexts.items():
                token = rows[integ]  # a row read may see the old or the new ciphertext
                try:
                    got = vault.decrypt(token, workspace_id=WS, integration_id=integ).reveal()
                except VaultError as exc:
                    failures.append(f"{integ}: {exc}")
                    continue
                if got != expected:
                    failures.append(f"{integ}: wrong plaintext")
            with lock:
                reads[0] += 1
            if finished:
                return

    def rotator() -> None:
        started.wait(5)
        for integ in list(rows):
            rows[integ] = vault.rotate(rows[integ], workspace_id=WS, integration_id=integ)

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for t in readers:
        t.start()
    rotation = threading.Thread(target=rotator)
    rotation.start()
    rotation.join()
    done.set()
    for t in readers:
        t.join()
    assert failures == []
    assert reads[0] >= 4  # every reader made at least one full pass
    assert not any(vault.needs_rotation(t) for t in rows.values())
    assert all(
        _vault(NEW).decrypt(rows[i], workspace_id=WS, integration_id=i).reveal() == p
        for i, p in plaintexts.items()
    )


def test_json_credentials_round_trip_with_masked_repr() -> None:
    vault = _vault()
    creds = {"client_id": "cid", "client_secret": "cs-verysecret", "expires_at": 123}
    token = vault.encrypt_json(creds, workspace_id=WS, integration_id=INTEG)
    opened = vault.decrypt_json(token, workspace_id=WS, integration_id=INTEG)
    assert isinstance(opened, SecretDict)
    assert dict(opened) == creds
    assert "cs-verysecret" not in repr(opened) and "cs-verysecret" not in str(opened)
    assert "client_secret" in repr(opened)


def test_secret_never_shows_itself() -> None:
    secret = Secret("pat-na1-abcdefghijklmnop")
    for shown in (
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret:>30}",
        repr([secret]),
        repr({"token": secret}),
    ):
        assert "abcdefgh" not in shown
    assert secret.reveal() == "pat-na1-abcdefghijklmnop"
    assert secret == Secret("pat-na1-abcdefghijklmnop")
    assert secret != Secret("other")
    with pytest.raises(TypeError):
        hash(secret)


def test_keyring_repr_shows_only_key_ids() -> None:
    keyring = Keyring.from_secrets(NEW, [OLD])
    assert NEW not in repr(keyring) and OLD not in repr(keyring)
    assert keyring.current.kid in repr(keyring)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("pat-na1-1234567890abcdef", "pat-…cdef"),
        (Secret("sk_live_0123456789abcdefXYZ"), "sk_l…fXYZ"),
        ("short-token", "****"),
        ("", "****"),
        (None, "****"),
    ],
)
def test_mask(value: str | Secret | None, expected: str) -> None:
    assert mask(value) == expected
