"""Redaction of secrets from URLs, headers and bodies before anything is logged."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

__all__ = ["REDACTED", "is_secret_name", "redact_body", "redact_headers", "redact_url"]

REDACTED = "[redacted]"

_SECRET_NAMES = {
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "code",
    "code_verifier",
    "assertion",
    "client_assertion",
    "hapikey",
    "key",
    "signature",
    "sessionid",
}
# any name containing one of these is a secret (api_token, x-api-token, client_secret…)
_SECRET_PARTS = (
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "api_key",
    "api-key",
    "signature",
    "credential",
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_MAX_BODY = 2_000


def is_secret_name(name: str) -> bool:
    """Whether a header, parameter or JSON key by this name holds a secret."""
    lowered = name.lower()
    return lowered in _SECRET_NAMES or any(part in lowered for part in _SECRET_PARTS)


def redact_url(url: httpx.URL | str) -> str:
    """The URL with secret query values and any userinfo replaced."""
    parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    if parsed.userinfo:
        parsed = parsed.copy_with(username=None, password=None)
    if not parsed.query:
        return str(parsed)
    pairs = parse_qsl(parsed.query.decode(), keep_blank_values=True)
    if not any(is_secret_name(k) for k, _ in pairs):
        return str(parsed)
    cleaned = [(k, REDACTED if is_secret_name(k) else v) for k, v in pairs]
    return str(parsed.copy_with(query=urlencode(cleaned, safe="[]:,").encode()))


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers with secret values replaced."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {k: REDACTED if is_secret_name(k) else v for k, v in items}


def _walk(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: REDACTED if is_secret_name(str(k)) else _walk(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v) for v in value]
    if isinstance(value, str):
        return _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", value)
    return value


def redact_body(content: bytes, content_type: str = "") -> str:
    """A loggable, truncated rendering of a body with secret fields replaced."""
    if not content:
        return ""
    text = content.decode("utf-8", errors="replace")
    if "json" in content_type or text.lstrip()[:1] in ("{", "["):
        try:
            rendered = json.dumps(_walk(json.loads(text)), ensure_ascii=False)
        except ValueError:
            rendered = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    elif "x-www-form-urlencoded" in content_type:
        pairs = parse_qsl(text, keep_blank_values=True)
        rendered = urlencode([(k, REDACTED if is_secret_name(k) else v) for k, v in pairs])
    else:
        rendered = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return rendered[:_MAX_BODY]
