"""Value transforms of a field mapping, each with an outbound and an inbound meaning.

Normalising transforms (trim, case, names, phones) apply the same way in both
directions; the others are pairs: ``join`` writes a list as one string outbound and
splits it inbound, ``date_format`` formats outbound and parses inbound, ``percent``
writes a share as a percentage outbound (0.5 -> 50, as Salesforce and Pipedrive keep a
deal's probability) and reads it back inbound, ``value_map`` and ``status_map`` look
values up forwards and backwards, ``options`` writes a value as the CRM's own option
spells it (``In progress`` -> ``IN_PROGRESS``) and reads it back as it comes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol, cast

from pydantic import BaseModel, ConfigDict, model_serializer, model_validator

from crmsync.mapping.direction import Direction
from crmsync.mapping.errors import UnmappedValueError
from crmsync.mapping.statusmap import StatusMap, remote_key
from crmsync.mapping.synonyms import normalise_header
from crmsync.quality.cleansing_names import capitalise_name
from crmsync.quality.normalize import normalize_phone, strip_invisible


class TransformKind(StrEnum):
    TRIM = "trim"
    LOWERCASE = "lowercase"
    UPPERCASE = "uppercase"
    NAME_CASE = "name_case"
    PHONE_E164 = "phone_e164"
    DATE_FORMAT = "date_format"
    SPLIT = "split"
    JOIN = "join"
    VALUE_MAP = "value_map"
    STATUS_MAP = "status_map"
    OWNER = "owner"
    PERCENT = "percent"
    OPTIONS = "options"


# Where a target's mapping carries the integration's owner table (``crmsync.owners``).
OWNERS = "_owners"


class OwnerLookup(Protocol):
    """Owner e-mail -> CRM user id (outbound) and back (inbound)."""

    def to_remote(self, value: Any) -> Any: ...

    def to_canonical(self, value: Any) -> Any: ...


_NEEDS_ARG = {
    TransformKind.DATE_FORMAT: str,
    TransformKind.SPLIT: str,
    TransformKind.JOIN: str,
    TransformKind.VALUE_MAP: dict,
    TransformKind.STATUS_MAP: str,
    TransformKind.OPTIONS: list,
}


class Transform(BaseModel):
    """One step; written in YAML as ``trim`` or ``{join: ";"}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: TransformKind
    arg: Any = None

    @model_validator(mode="before")
    @classmethod
    def _from_compact(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"kind": data}
        if isinstance(data, Mapping) and len(data) == 1 and "kind" not in data:
            ((kind, arg),) = data.items()
            return {"kind": kind, "arg": arg}
        return data

    @model_validator(mode="after")
    def _check_arg(self) -> Transform:
        expected = _NEEDS_ARG.get(self.kind)
        if expected is None and self.kind is TransformKind.PHONE_E164:
            if self.arg is not None and not isinstance(self.arg, str):
                raise ValueError("phone_e164 takes a region code such as 'US'")
        elif expected is None and self.arg is not None:
            raise ValueError(f"{self.kind} takes no argument")
        elif expected is not None and not isinstance(self.arg, expected):
            raise ValueError(f"{self.kind} needs a {expected.__name__} argument")
        return self

    @model_serializer
    def _to_compact(self) -> Any:
        return self.kind.value if self.arg is None else {self.kind.value: self.arg}


def _on_text(value: Any, func: Any) -> Any:
    if isinstance(value, str):
        return func(value)
    if isinstance(value, list):
        return [func(v) if isinstance(v, str) else v for v in value]
    return value


def _lookup(table: Mapping[str, Any], key: str, default: Any, name: str, direction: str) -> Any:
    if key in table:
        return table[key]
    if default is not None:
        return default
    raise UnmappedValueError(key, name, direction)


def _map_value(
    transform: Transform, value: Any, outbound: bool, status_maps: Mapping[str, StatusMap]
) -> Any:
    if transform.kind is TransformKind.STATUS_MAP:
        name = str(transform.arg)
        table = status_maps[name]
    else:
        name = "value_map"
        table = StatusMap(outbound=transform.arg)
    if value is None:
        return None
    if outbound:
        return _lookup(table.outbound, str(value), table.default_outbound, name, Direction.OUTBOUND)
    return _lookup(table.inbound, remote_key(value), table.default_inbound, name, Direction.INBOUND)


def apply_transform(
    transform: Transform,
    value: Any,
    *,
    outbound: bool,
    region: str = "US",
    status_maps: Mapping[str, StatusMap] | None = None,
) -> Any:
    """``value`` after one transform; ValueError (or UnmappedValueError) says why not."""
    kind = transform.kind
    if kind is TransformKind.TRIM:
        return _on_text(value, lambda s: strip_invisible(s).strip())
    if kind is TransformKind.LOWERCASE:
        return _on_text(value, str.lower)
    if kind is TransformKind.UPPERCASE:
        return _on_text(value, str.upper)
    if kind is TransformKind.NAME_CASE:
        return _on_text(value, capitalise_name)
    if kind is TransformKind.PHONE_E164:
        return _phone(value, transform.arg or region)
    if kind is TransformKind.DATE_FORMAT:
        return _date_format(value, str(transform.arg), outbound)
    if kind is TransformKind.OWNER:
        return _owner(value, outbound, (status_maps or {}).get(OWNERS))
    if kind is TransformKind.PERCENT:
        return _percent(value, outbound)
    if kind is TransformKind.OPTIONS:
        return _option(value, transform.arg) if outbound else value
    if kind in (TransformKind.SPLIT, TransformKind.JOIN):
        joins = (kind is TransformKind.JOIN) == outbound
        return _join(value, str(transform.arg)) if joins else _split(value, str(transform.arg))
    return _map_value(transform, value, outbound, status_maps or {})


def _owner(value: Any, outbound: bool, table: Any) -> Any:
    """Through the owner table; as it is where the integration has none (a mapping
    used outside a sync target, a CRM without a users API)."""
    if table is None or value is None or value == "":
        return value
    lookup = cast(OwnerLookup, table)
    return lookup.to_remote(value) if outbound else lookup.to_canonical(value)


def _option_key(value: str) -> str:
    return normalise_header(value).replace(" ", "")


def _option(value: Any, options: list[Any]) -> Any:
    """The option ``value`` names, spelt as the CRM keeps it: a HubSpot export writes
    the labels (``Attempted to contact``, ``Marketing qualified lead``) where the API
    takes the values (``ATTEMPTED_TO_CONTACT``, ``marketingqualifiedlead``). A value
    that names no option goes as it is, and the CRM says what it thinks of it."""
    if not isinstance(value, str):
        return value
    key = _option_key(value)
    for option in options:
        if _option_key(str(option)) == key:
            return option
    return value


def _percent(value: Any, outbound: bool) -> Any:
    """A share (0 to 1) as a percentage outbound, and a percentage as a share inbound;
    computed in decimal, so 0.3 goes out as 30, not 30.000000000000004."""
    if value is None or value == "":
        return value
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    try:
        number = Decimal(str(value).strip().removesuffix("%").strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a number")
    if outbound:
        scaled = number * 100
        return int(scaled) if scaled == scaled.to_integral_value() else float(scaled)
    return float(number / 100)


def _phone(value: Any, region: str) -> Any:
    if not isinstance(value, str) or not value.strip():
        return value
    phone = normalize_phone(value, region)
    if phone is None:
        raise ValueError("not a valid phone number")
    return phone


def _date_format(value: Any, fmt: str, outbound: bool) -> Any:
    if value is None or value == "":
        return value
    if outbound:
        if isinstance(value, str):
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        if not isinstance(value, date):
            raise ValueError(f"expected a date, got {type(value).__name__}")
        return value.strftime(fmt)
    if not isinstance(value, str):
        raise ValueError(f"expected a date string in format {fmt!r}")
    try:
        return datetime.strptime(value.strip(), fmt)
    except ValueError:
        raise ValueError(f"{value!r} does not match date format {fmt!r}") from None


def _join(value: Any, separator: str) -> Any:
    if isinstance(value, list | tuple):
        return separator.join(str(v) for v in value)
    return value


def _split(value: Any, separator: str) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(separator) if part.strip()]
    return value
