"""Credentials vault: tokens and keys encrypted at rest, bound to their integration.

Ciphertext format (text, safe for any column type)::

    v1.<key id>.<base64url(nonce || AES-GCM ciphertext+tag)>

AES-256-GCM with a fresh 96-bit nonce per encryption. The associated data binds each
ciphertext to its (workspace_id, integration_id) and key id, so a value copied into another
integration's row fails to decrypt instead of lending it someone else's credentials.

Keys are derived from ``CRMSYNC_SECRET_KEY`` with HKDF-SHA256. A ``Keyring`` holds the
current key and any previous ones: everything is encrypted under the current key, any of
them decrypts, and ``rotate`` re-encrypts an old ciphertext under the current key. Rotation
therefore needs no downtime: deploy with the new key current and the old one previous,
re-encrypt row by row, then drop the old key.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crmsync.connectors.http.secret import Secret, SecretDict

__all__ = [
    "MIN_SECRET_KEY_LENGTH",
    "Keyring",
    "Vault",
    "VaultError",
    "VaultKey",
    "VaultSealer",
    "generate_secret_key",
    "key_id",
]

FORMAT_VERSION = "v1"
MIN_SECRET_KEY_LENGTH = 32
_NONCE_BYTES = 12
_SALT = b"crmsync-vault"


class VaultError(Exception):
    """A ciphertext cannot be read: unknown key, wrong integration, or tampered."""


def generate_secret_key() -> str:
    """A fresh random value for ``CRMSYNC_SECRET_KEY``."""
    return secrets.token_urlsafe(32)


def _hkdf(material: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_SALT, info=info).derive(material)


@dataclass(frozen=True, slots=True)
class VaultKey:
    """One AES-256 key and its public id; ``repr`` shows the id only."""

    kid: str
    aead: AESGCM = field(repr=False, compare=False)

    @classmethod
    def derive(cls, secret_key: str) -> VaultKey:
        """Derive the key from a ``CRMSYNC_SECRET_KEY`` value (at least 32 characters)."""
        if len(secret_key) < MIN_SECRET_KEY_LENGTH:
            raise VaultError(
                f"secret key must be at least {MIN_SECRET_KEY_LENGTH} characters; "
                "generate one with secrets.token_urlsafe(32)"
            )
        material = secret_key.encode()
        key = _hkdf(material, b"crmsync credentials aes-256-gcm", 32)
        # the id comes from a separate derivation so it says nothing about the key
        kid = _hkdf(material, b"crmsync credentials key id", 6).hex()
        return cls(kid=kid, aead=AESGCM(key))


@dataclass(frozen=True, slots=True)
class Keyring:
    """The current key (encrypts) and previous keys (still decrypt)."""

    current: VaultKey
    previous: tuple[VaultKey, ...] = ()

    @classmethod
    def from_secrets(cls, current: str, previous: Iterable[str] = ()) -> Keyring:
        """Build from secret-key strings, e.g. settings' current and old keys."""
        return cls(VaultKey.derive(current), tuple(VaultKey.derive(p) for p in previous))

    def find(self, kid: str) -> VaultKey:
        """The key with id ``kid``."""
        for key in (self.current, *self.previous):
            if key.kid == kid:
                return key
        raise VaultError(f"no key with id {kid} in the keyring")


def _associated_data(kid: str, workspace_id: object, integration_id: object) -> bytes:
    # JSON keeps the fields unambiguous whatever characters the ids hold
    return json.dumps(
        ["crmsync-credentials", FORMAT_VERSION, kid, str(workspace_id), str(integration_id)]
    ).encode()


class Vault:
    """Encrypts and decrypts credentials under a keyring; swap ``keyring`` to rotate."""

    def __init__(self, keyring: Keyring):
        self.keyring = keyring

    @classmethod
    def from_secret_key(cls, current: str, previous: Iterable[str] = ()) -> Vault:
        """A vault for ``CRMSYNC_SECRET_KEY`` (and the keys it replaced)."""
        return cls(Keyring.from_secrets(current, previous))

    def encrypt(
        self, plaintext: str | bytes | Secret, *, workspace_id: object, integration_id: object
    ) -> str:
        """Ciphertext of ``plaintext`` under the current key, bound to the integration."""
        if isinstance(plaintext, Secret):
            plaintext = plaintext.reveal()
        data = plaintext.encode() if isinstance(plaintext, str) else plaintext
        key = self.keyring.current
        nonce = os.urandom(_NONCE_BYTES)
        sealed = key.aead.encrypt(
            nonce, data, _associated_data(key.kid, workspace_id, integration_id)
        )
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{FORMAT_VERSION}.{key.kid}.{body}"

    def decrypt_bytes(self, token: str, *, workspace_id: object, integration_id: object) -> bytes:
        """The plaintext bytes; ``VaultError`` when the key or binding does not match."""
        kid, blob = _split(token)
        key = self.keyring.find(kid)
        try:
            return key.aead.decrypt(
                blob[:_NONCE_BYTES],
                blob[_NONCE_BYTES:],
                _associated_data(kid, workspace_id, integration_id),
            )
        except InvalidTag:
            # deliberately vague: never say which part failed, never echo the input
            raise VaultError("credentials do not decrypt for this integration") from None

    def decrypt(self, token: str, *, workspace_id: object, integration_id: object) -> Secret:
        """The plaintext as a ``Secret``."""
        data = self.decrypt_bytes(token, workspace_id=workspace_id, integration_id=integration_id)
        return Secret(data.decode())

    def encrypt_json(
        self, values: Mapping[str, Any], *, workspace_id: object, integration_id: object
    ) -> str:
        """Encrypt a credentials mapping as one ciphertext."""
        data = json.dumps(dict(values), separators=(",", ":"), sort_keys=True)
        return self.encrypt(data, workspace_id=workspace_id, integration_id=integration_id)

    def decrypt_json(
        self, token: str, *, workspace_id: object, integration_id: object
    ) -> SecretDict:
        """A credentials mapping whose repr stays masked."""
        data = self.decrypt_bytes(token, workspace_id=workspace_id, integration_id=integration_id)
        return SecretDict(json.loads(data))

    def needs_rotation(self, token: str) -> bool:
        """Whether ``token`` was encrypted under a key other than the current one."""
        return _split(token)[0] != self.keyring.current.kid

    def rotate(self, token: str, *, workspace_id: object, integration_id: object) -> str:
        """``token`` re-encrypted under the current key (unchanged if it already is)."""
        if not self.needs_rotation(token):
            return token
        data = self.decrypt_bytes(token, workspace_id=workspace_id, integration_id=integration_id)
        return self.encrypt(data, workspace_id=workspace_id, integration_id=integration_id)


def key_id(token: str) -> str:
    """The id of the key a ciphertext was made with."""
    return _split(token)[0]


def _split(token: str) -> tuple[str, bytes]:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != FORMAT_VERSION:
        raise VaultError("not a crmsync ciphertext (expected v1.<key id>.<data>)")
    try:
        blob = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
    except (binascii.Error, ValueError):
        raise VaultError("ciphertext is not valid base64") from None
    if len(blob) <= _NONCE_BYTES:
        raise VaultError("ciphertext is too short")
    return parts[1], blob


@dataclass(frozen=True, slots=True)
class VaultSealer:
    """Seals cached OAuth tokens with the vault, bound to the integration
    (a ``TokenSealer`` for ``connectors.http.tokens.RedisTokenStore``)."""

    vault: Vault
    workspace_id: object
    integration_id: object

    def seal(self, plaintext: str) -> str:
        return self.vault.encrypt(
            plaintext, workspace_id=self.workspace_id, integration_id=self.integration_id
        )

    def unseal(self, sealed: str) -> str:
        secret = self.vault.decrypt(
            sealed, workspace_id=self.workspace_id, integration_id=self.integration_id
        )
        return secret.reveal()
