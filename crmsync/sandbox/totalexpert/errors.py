"""Total Expert's error answers: `{"error": ...}`, plus `error_description` for OAuth."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class TotalExpertError(Exception):
    """Raised in a route to answer `{"error": message}` with `status`."""

    def __init__(self, status: int, message: str, description: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.description = description

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message}
        if self.description is not None:
            out["error_description"] = self.description
        return out


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def error(exc: TotalExpertError) -> Response:
    return json_response(exc.body(), exc.status)


def not_found(entity: str) -> TotalExpertError:
    return TotalExpertError(404, f"{entity} not found")


def missing_target(relationship: str) -> TotalExpertError:
    return TotalExpertError(422, f"Unable to find target for relationship: '{relationship}'")
