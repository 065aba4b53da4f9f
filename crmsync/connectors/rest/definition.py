"""The YAML definition of a REST CRM: everything the declarative connector needs to know.

A definition names the auth kind, the endpoints of each object type (templated from
shared ``defaults`` so per-object differences are the only per-object lines), the id
and modified-time fields, how to page through changes, whether deletions are visible,
the field names and the webhook headers. ``load`` turns YAML (or a mapping) into a
checked ``Definition``; a mistake is a ``ConfigError`` naming the key and what is
expected there.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crmsync.connectors.base import ChangeKind
from crmsync.connectors.errors import ConfigError

__all__ = [
    "AuthSpec",
    "ChangesSpec",
    "Definition",
    "Endpoint",
    "FieldSpec",
    "ObjectSpec",
    "Pagination",
    "WebhookSpec",
    "builtin",
    "from_config",
    "load",
]

DEFINITIONS = Path(__file__).parent / "definitions"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
REQUIRED_ENDPOINTS = ("list", "create", "update", "delete")


class _Strict(BaseModel):
    # unknown keys are refused so a typo fails loudly instead of being ignored
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthSpec(_Strict):
    """How credentials go on each request."""

    kind: Literal["api_key_header", "api_key_query", "bearer", "basic"]
    name: str | None = None  # header or query parameter of the api_key kinds
    credential: str = "api_key"  # credential holding the key or token
    username: str = "username"  # credentials of the basic kind
    password: str = "password"  # noqa: S105  (a credential's name, not a secret)

    @model_validator(mode="after")
    def _name_for_keys(self) -> AuthSpec:
        if self.kind.startswith("api_key") and not self.name:
            raise ValueError(f"auth kind {self.kind} needs 'name' (the header or parameter)")
        return self


class Endpoint(_Strict):
    """One call: ``method`` and ``path`` (``{object}``, ``{id}``, ``{key}`` are filled in)."""

    method: str
    path: str

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            method, _, path = value.strip().partition(" ")
            return {"method": method, "path": path.strip()}
        return value

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        if value.upper() not in METHODS:
            raise ValueError(f"expected 'METHOD /path' with METHOD one of {', '.join(METHODS)}")
        return value.upper()

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("expected 'METHOD /path' with a path starting with /")
        return value

    def url(self, **values: str) -> str:
        """The path with its placeholders filled in."""
        return self.path.format_map(values)


class FieldSpec(_Strict):
    """One property: its name on the wire (a dot path into the record) and its type."""

    wire: str
    type: Literal["string", "number", "boolean", "date", "datetime", "enumeration"] = "string"
    label: str | None = None
    required: bool = False
    read_only: bool = False
    unique: bool = False
    options: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        return {"wire": value} if isinstance(value, str) else value


class Pagination(_Strict):
    """How one listing continues: a cursor token, a page number, an offset or a next link."""

    style: Literal["cursor", "page", "offset", "next_link"]
    param: str | None = None  # query parameter of the cursor, page or offset
    next: str | None = None  # where the answer gives the next cursor or link
    limit_param: str = "limit"
    page_size: int = Field(100, ge=1, le=1000)
    first_page: int = 1

    @model_validator(mode="after")
    def _complete(self) -> Pagination:
        if self.style in ("cursor", "next_link") and not self.next:
            raise ValueError(f"style {self.style} needs 'next' (where the answer gives it)")
        if self.style != "next_link" and not self.param:
            raise ValueError(f"style {self.style} needs 'param' (the query parameter)")
        return self


class ChangesSpec(_Strict):
    """Incremental reading: records modified since a time, page by page."""

    since_param: str
    since_format: Literal["iso8601", "epoch_ms", "epoch_s"] = "iso8601"
    records: str = "data"  # where the list is in an answer ("" when the answer is the list)
    pagination: Pagination
    params: dict[str, str] = Field(default_factory=dict)  # sent with every listing


class DeletionSpec(_Strict):
    """Whether a poll sees deletions: ``flag`` when deleted records are listed marked."""

    visible: Literal["flag", "none"] = "none"
    flag: str = "deleted"
    at: str | None = None  # field with the deletion time


class RecordSpec(_Strict):
    """Where the id and the modified time are in a record."""

    id: str = "id"
    modified: str = "updatedAt"


class WebhookSpec(_Strict):
    """Deliveries carry a shared secret in a header; the event name says object and kind."""

    secret_header: str
    event_header: str | None = None  # when set, it must agree with the body's event
    event: str = "event"  # body field with ``<event_name><separator><action>``
    separator: str = "."
    delivery_id: str = "id"
    occurred_at: str | None = None
    record: str = "data"
    actions: dict[str, ChangeKind] = Field(default_factory=lambda: {k.value: k for k in ChangeKind})


class ObjectSpec(_Strict):
    """One object type; unset parts come from the definition's ``defaults``."""

    resource: str | None = None  # name in paths, when it differs from the object type
    event_name: str | None = None  # name in webhook events (e.g. the singular)
    endpoints: dict[str, Endpoint] = Field(default_factory=dict)
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    upsert_key: str | None = None  # property the upsert or find endpoint is keyed on
    batch_limit: int = 1

    @field_validator("batch_limit")
    @classmethod
    def _single(cls, value: int) -> int:
        if value != 1:
            raise ValueError("batch endpoints are not described yet: use batch_limit 1")
        return value


class ErrorSpec(_Strict):
    """Where an error answer keeps its message and code (dot paths)."""

    message: str | None = None
    code: str | None = None
    details: str | None = None  # a list of {field, message}


class RateLimitSpec(_Strict):
    """``limit`` requests per ``period`` seconds."""

    limit: int = Field(ge=1)
    period: float = Field(gt=0)


class Definition(_Strict):
    """A whole REST CRM."""

    name: str
    label: str | None = None
    base_url: str | None = None
    auth: AuthSpec
    rate_limit: tuple[RateLimitSpec, ...] = ()
    # share of each limit spent: headroom for the network delay between our count of a
    # call and the CRM's, which otherwise meet at a window's edge as a 429
    rate_utilisation: float = Field(1.0, gt=0, le=1)
    record: RecordSpec = Field(default_factory=RecordSpec)
    changes: ChangesSpec | None = None
    deletions: DeletionSpec = Field(default_factory=DeletionSpec)
    errors: ErrorSpec = Field(default_factory=ErrorSpec)
    webhooks: WebhookSpec | None = None
    defaults: ObjectSpec = Field(default_factory=ObjectSpec)
    objects: dict[str, ObjectSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _endpoints_complete(self) -> Definition:
        for name in self.objects:
            spec = self.object(name)
            missing = [e for e in REQUIRED_ENDPOINTS if e not in spec.endpoints]
            if missing:
                raise ValueError(
                    f"objects.{name}: endpoints {', '.join(missing)} missing "
                    "(give them under the object or under defaults.endpoints)"
                )
            if spec.upsert_key and not ({"upsert", "find"} & set(spec.endpoints)):
                raise ValueError(
                    f"objects.{name}: upsert_key needs an 'upsert' or a 'find' endpoint"
                )
        return self

    def object(self, name: str) -> ObjectSpec:
        """An object type with the defaults filled in and ``{object}`` resolved."""
        own = self.objects[name]
        resource = own.resource or name
        endpoints = {
            kind: Endpoint(method=e.method, path=e.path.replace("{object}", resource))
            for kind, e in {**self.defaults.endpoints, **own.endpoints}.items()
        }
        return ObjectSpec(
            resource=resource,
            event_name=own.event_name or resource,
            endpoints=endpoints,
            fields={**self.defaults.fields, **own.fields},
            upsert_key=own.upsert_key or self.defaults.upsert_key,
            batch_limit=own.batch_limit,
        )


def _where(location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in location) or "(top level)"


def load(source: str | Path | Mapping[str, Any]) -> Definition:
    """A checked definition from a YAML file, YAML text or a mapping."""
    if isinstance(source, Path):
        label = source.name
        text: Any = source.read_text(encoding="utf-8")
    else:
        label = "definition"
        text = source
    if isinstance(text, str):
        try:
            text = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ConfigError(f"{label}: not valid YAML ({error})") from None
    if not isinstance(text, Mapping):
        raise ConfigError(f"{label}: expected a mapping of keys (name, auth, objects...)")
    try:
        return Definition.model_validate(dict(text))
    except ValidationError as error:
        problems = [
            f"{_where(e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in error.errors()
        ]
        raise ConfigError(f"{label}: " + "; ".join(problems[:5])) from None


def builtin(name: str) -> Definition:
    """A definition shipped in ``connectors/rest/definitions/``."""
    path = DEFINITIONS / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in DEFINITIONS.glob("*.yaml")))
        raise ConfigError(f"no built-in REST definition {name!r} (known: {known})")
    return load(path)


def from_config(config: Mapping[str, Any] | None) -> Definition:
    """An integration's definition: ``config.definition`` (a mapping shaped like the YAML,
    or the YAML text itself), else the built-in ``config.definition_name``, else the
    generic REST CRM's."""
    config = config or {}
    inline = config.get("definition")
    if inline is not None:
        if not isinstance(inline, Mapping | str):
            raise ConfigError("config.definition: expected a mapping shaped like the YAML file")
        return load(inline)
    return builtin(str(config.get("definition_name") or "generic"))
