"""``Secret``: a credential string that never shows itself, and the masked form of one.

It lives in the connector layer because every connector handles credentials; the vault
that encrypts them at rest (``integrations.vault``) builds on it.
"""

from __future__ import annotations

import hmac
from typing import Any

__all__ = ["Secret", "SecretDict", "mask"]

_MASK = "****"
# Show the ends of a secret only when enough stays hidden to be useless to a reader.
_MASK_REVEAL_FROM = 20


class Secret:
    """A string that never shows itself in ``repr``, ``str``, f-strings or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    @classmethod
    def of(cls, value: str | Secret) -> Secret:
        """Wrap a plain string; pass a ``Secret`` through unchanged."""
        return value if isinstance(value, Secret) else cls(value)

    def reveal(self) -> str:
        """The plaintext, for the one place that must send it (an auth header)."""
        return self._value

    def masked(self) -> str:
        """The form shown in API responses."""
        return mask(self._value)

    def __repr__(self) -> str:
        return f"Secret('{_MASK}')"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    __hash__ = None  # type: ignore[assignment]  # equal secrets must not be findable by hash


class SecretDict(dict[str, Any]):
    """Decrypted credentials; the values are plain, the repr is masked."""

    def __repr__(self) -> str:
        return "{" + ", ".join(f"{k!r}: '{_MASK}'" for k in self) + "}"

    __str__ = __repr__


def mask(value: str | Secret | None) -> str:
    """``"abcd…wxyz"`` for long secrets, ``"****"`` for short or empty ones."""
    if value is None:
        return _MASK
    plain = value.reveal() if isinstance(value, Secret) else value
    if len(plain) < _MASK_REVEAL_FROM:
        return _MASK
    return f"{plain[:4]}…{plain[-4:]}"
