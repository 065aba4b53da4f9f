"""Provider names and the aliases they have gone by.

The declarative REST connector's provider is ``generic`` (the name its sandbox, mapping
defaults and webhook URLs use). ``rest`` named it in early API docs and may be stored in
integrations made then: every lookup by provider name resolves it through ``canonical``.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["ALIASES", "canonical"]

ALIASES: Mapping[str, str] = {"rest": "generic"}


def canonical(name: str) -> str:
    """``name`` with an alias resolved to the provider's own name."""
    return ALIASES.get(name, name)
