"""A status map: canonical values <-> a CRM's values of a status or stage field.

Below both the mapping model (which names its status maps) and the transforms (which
apply them), so neither imports the other.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

Scalar = str | int | float | bool


class StatusMap(BaseModel):
    """Canonical values <-> remote values of a status or stage field, both directions.

    ``inbound`` defaults to the inverse of ``outbound``; give it explicitly when several
    canonical values share one remote value. The defaults catch values not listed.
    """

    model_config = ConfigDict(extra="forbid")

    outbound: dict[str, Scalar]
    inbound: dict[str, str] = Field(default_factory=dict)
    default_outbound: Scalar | None = None
    default_inbound: str | None = None

    @model_validator(mode="after")
    def _fill_inbound(self) -> StatusMap:
        if not self.inbound:
            inverse: dict[str, str] = {}
            for canonical, remote in self.outbound.items():
                inverse.setdefault(remote_key(remote), canonical)
            self.inbound = inverse
        return self


def remote_key(value: Any) -> str:
    """Lookup key of a remote value: ``True`` and ``"true"`` or ``5`` and ``"5"`` match."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
