"""Deal and ticket pipelines (`/crm/v3/pipelines/{objectType}`) and the stage check of
record writes.

A new portal has one deal pipeline (``default``, seven stages) and one ticket pipeline
(``0``, four stages), as HubSpot creates them. A deal's ``dealstage`` must be a stage of
its ``pipeline`` (``default`` when the write and the record give none), a ticket's
``hs_pipeline_stage`` one of its ``hs_pipeline``; anything else is HubSpot's
INVALID_OPTION. Admins can add pipelines (``POST``), as setup tools do.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from crmsync.sandbox.base import SandboxError, json_response, read_json
from crmsync.sandbox.hubspot import errors
from crmsync.sandbox.hubspot.properties import invalid
from crmsync.sandbox.timefmt import iso_ms

# object type -> (pipeline property, stage property, default pipeline id)
PROPERTIES = {
    "deals": ("pipeline", "dealstage", "default"),
    "tickets": ("hs_pipeline", "hs_pipeline_stage", "0"),
}
_DEAL_STAGES = (
    ("appointmentscheduled", "Appointment Scheduled", "0.2", False),
    ("qualifiedtobuy", "Qualified To Buy", "0.4", False),
    ("presentationscheduled", "Presentation Scheduled", "0.6", False),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", False),
    ("contractsent", "Contract Sent", "0.9", False),
    ("closedwon", "Closed Won", "1.0", True),
    ("closedlost", "Closed Lost", "0.0", True),
)
_TICKET_STAGES = (
    ("1", "New", None, False),
    ("2", "Waiting on contact", None, False),
    ("3", "Waiting on us", None, False),
    ("4", "Closed", None, True),
)


@dataclass
class Pipeline:
    """One pipeline and its ordered stages (id -> JSON)."""

    id: str
    label: str
    display_order: int
    stages: dict[str, dict[str, Any]]
    created: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "displayOrder": self.display_order,
            "stages": list(self.stages.values()),
            "createdAt": self.created,
            "updatedAt": self.created,
            "archived": False,
        }


def _stage(stage_id: str, label: str, order: int, metadata: dict[str, str], at: str) -> Any:
    return {
        "id": stage_id,
        "label": label,
        "displayOrder": order,
        "metadata": metadata,
        "createdAt": at,
        "updatedAt": at,
        "archived": False,
        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
    }


@dataclass
class Pipelines:
    """The pipelines of every object type that has them."""

    by_type: dict[str, dict[str, Pipeline]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000001))

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        epoch = iso_ms(0)
        self._ids = itertools.count(1000001)
        self.by_type = {"deals": {}, "tickets": {}}
        for object_type, pipeline_id, label, stages in (
            ("deals", "default", "Sales Pipeline", _DEAL_STAGES),
            ("tickets", "0", "Support Pipeline", _TICKET_STAGES),
        ):
            made = {}
            for order, (stage_id, stage_label, probability, closed) in enumerate(stages):
                meta = {"isClosed": str(closed).lower()}
                if probability is not None:
                    meta["probability"] = probability
                made[stage_id] = _stage(stage_id, stage_label, order, meta, epoch)
            self.by_type[object_type][pipeline_id] = Pipeline(pipeline_id, label, 0, made, epoch)

    def of(self, object_type: str) -> dict[str, Pipeline]:
        """The pipelines of an object type; 400 when it has none, as HubSpot answers."""
        found = self.by_type.get(object_type)
        if found is None:
            raise errors.validation(f"Object type {object_type} does not support pipelines")
        return found

    def problems(
        self, object_type: str, values: Mapping[str, str], current: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """INVALID_OPTION entries for a pipeline or stage the write cannot use."""
        if object_type not in PROPERTIES:
            return []
        pipeline_name, stage_name, default = PROPERTIES[object_type]
        if pipeline_name not in values and stage_name not in values:
            return []
        pipeline_id = values.get(pipeline_name) or current.get(pipeline_name) or default
        pipeline = self.by_type[object_type].get(pipeline_id)
        if pipeline is None:
            return [_bad(pipeline_name, pipeline_id, self.by_type[object_type])]
        stage = values.get(stage_name, current.get(stage_name))
        if stage and stage not in pipeline.stages:
            return [_bad(stage_name, stage, pipeline.stages)]
        return []

    def create(self, object_type: str, body: Mapping[str, Any], at: str) -> Pipeline:
        """A new pipeline from a `PipelineInput` body (label, displayOrder, stages)."""
        label, stages = body.get("label"), body.get("stages")
        if not isinstance(label, str) or not label or not isinstance(stages, list) or not stages:
            raise errors.validation("label and at least one stage are required")
        with self.lock:
            made: dict[str, dict[str, Any]] = {}
            for order, raw in enumerate(stages):
                if not isinstance(raw, dict) or not raw.get("label"):
                    raise errors.validation("every stage needs a label")
                metadata = raw.get("metadata") or {}
                if object_type == "deals" and "probability" not in metadata:
                    raise errors.validation("deal stages need metadata.probability")
                stage_id = str(next(self._ids))
                meta = {str(k): str(v) for k, v in metadata.items()}
                made[stage_id] = _stage(
                    stage_id, str(raw["label"]), int(raw.get("displayOrder", order)), meta, at
                )
            pipeline_id = str(next(self._ids))
            order = int(body.get("displayOrder", len(self.of(object_type))))
            pipeline = Pipeline(pipeline_id, label, order, made, at)
            self.by_type[object_type][pipeline_id] = pipeline
            return pipeline


def _bad(name: str, value: str, allowed: Mapping[str, Any]) -> dict[str, Any]:
    return invalid(
        name,
        "INVALID_OPTION",
        f"{value} was not one of the allowed options: [{', '.join(allowed)}]",
    )


def pipeline_routes(
    pipelines: Pipelines, now_ms: Callable[[], int], resolve_type: Callable[[str], str]
) -> list[BaseRoute]:
    """``GET|POST /crm/v3/pipelines/{objectType}``, one pipeline, its stages."""

    def found(request: Request) -> Pipeline:
        of_type = pipelines.of(resolve_type(request.path_params["object_type"]))
        pipeline = of_type.get(request.path_params["pipeline_id"])
        if pipeline is None:
            pid = request.path_params["pipeline_id"]
            raise SandboxError(
                errors.error_response(404, "OBJECT_NOT_FOUND", f"Unable to find pipeline {pid}")
            )
        return pipeline

    async def listing(request: Request) -> Response:
        of_type = pipelines.of(resolve_type(request.path_params["object_type"]))
        return json_response({"results": [p.to_json() for p in of_type.values()]})

    async def create(request: Request) -> Response:
        object_type = resolve_type(request.path_params["object_type"])
        body = await read_json(request)
        if not isinstance(body, dict):
            raise errors.validation("Invalid input JSON")
        made = pipelines.create(object_type, body, iso_ms(now_ms()))
        return json_response(made.to_json(), status=201)

    async def one(request: Request) -> Response:
        return json_response(found(request).to_json())

    async def stages(request: Request) -> Response:
        return json_response({"results": list(found(request).stages.values())})

    async def stage(request: Request) -> Response:
        chosen = found(request).stages.get(request.path_params["stage_id"])
        if chosen is None:
            sid = request.path_params["stage_id"]
            return errors.error_response(404, "OBJECT_NOT_FOUND", f"Unable to find stage {sid}")
        return json_response(chosen)

    base = "/crm/v3/pipelines/{object_type}"
    return [
        Route(base, listing, methods=["GET"]),
        Route(base, create, methods=["POST"]),
        Route(base + "/{pipeline_id}", one, methods=["GET"]),
        Route(base + "/{pipeline_id}/stages", stages, methods=["GET"]),
        Route(base + "/{pipeline_id}/stages/{stage_id}", stage, methods=["GET"]),
    ]
