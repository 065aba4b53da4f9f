"""Likely typos in the domains of e-mail addresses (``gmial.com`` -> ``gmail.com``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Final

import jellyfish

COMMON_DOMAINS: Final = frozenset(
    {"gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "ymail.com", "hotmail.com",
     "hotmail.co.uk", "outlook.com", "live.com", "msn.com", "aol.com", "icloud.com", "me.com",
     "mac.com", "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "protonmail.com",
     "proton.me", "mail.com", "gmx.com", "gmx.de", "web.de", "orange.fr", "btinternet.com"}
)  # fmt: skip
_TLD_TYPOS: Final = {"con": "com", "cmo": "com", "ocm": "com", "comm": "com", "cm": "com",
                     "om": "com", "co": "com", "nte": "net", "ent": "net"}  # fmt: skip
_SHORT_DOMAIN: Final = 9


@lru_cache(maxsize=1 << 14)
def suggest_domain(domain: str) -> str | None:
    """The common domain ``domain`` is most likely a typo of, or None."""
    domain = domain.lower()
    if domain in COMMON_DOMAINS:
        return None
    name, _, tld = domain.rpartition(".")
    if name and tld in _TLD_TYPOS and f"{name}.{_TLD_TYPOS[tld]}" in COMMON_DOMAINS:
        return f"{name}.{_TLD_TYPOS[tld]}"
    limit = 1 if len(domain) <= _SHORT_DOMAIN else 2
    best: tuple[int, str] | None = None
    for common in sorted(COMMON_DOMAINS):
        distance = jellyfish.damerau_levenshtein_distance(domain, common)
        if distance <= limit and (best is None or distance < best[0]):
            best = (distance, common)
    return best[1] if best else None


def suggest_email(email: str) -> str | None:
    """``email`` with its domain's likely typo fixed, or None when it looks right."""
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return None
    fixed = suggest_domain(domain)
    return f"{local}@{fixed}" if fixed else None
