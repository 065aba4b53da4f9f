"""One column of a preview: what it maps to, its values before and after, its problems.

A column's problems are counted with a few example values each; for a column mapped to
an enum field (or given a value map), the distinct values nothing maps are listed with
the canonical value each most likely means (``suggest_values``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Final

from crmsync.fields.paths import MISSING, get_path
from crmsync.imports.rowmap import EXTERNAL_REF, FULL_NAME, PSEUDO_TARGETS, MappedRow
from crmsync.imports.valuemaps import MISS, ValueMap, compile_value_map, suggest_values

MAX_SAMPLES: Final = 5
MAX_EXAMPLES: Final = 3
MAX_UNKNOWN: Final = 50


class ColumnReport:
    """Findings of one column over the sample rows."""

    def __init__(
        self, header: str, target: str | None, object_type: str, value_map: ValueMap | None
    ) -> None:
        self.header = header
        self.target = target
        self.object_type = object_type
        self.value_map = value_map
        self.filled = 0
        self.samples: dict[str, Any] = {}
        self.problems: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.unknown: Counter[str] = Counter()
        self._values = (
            compile_value_map(object_type, target, value_map)
            if target and target not in PSEUDO_TARGETS
            else None
        )

    def _after(self, fields: Mapping[str, Any]) -> Any:
        if self.target == FULL_NAME:
            return {"first_name": fields.get("first_name"), "last_name": fields.get("last_name")}
        if self.target == EXTERNAL_REF:
            return fields.get(EXTERNAL_REF)
        value = get_path(fields, str(self.target))
        return None if value is MISSING else value

    def see(self, values: Mapping[str, Any], out: MappedRow) -> None:
        before = values.get(self.header)
        if before in (None, ""):
            return
        self.filled += 1
        if self.target is None:
            return
        key = str(before)
        if key not in self.samples and len(self.samples) < MAX_SAMPLES:
            self.samples[key] = self._after(out.fields)
        for problem in out.problems:
            if problem.column != self.header:
                continue
            entry = self.problems.setdefault(
                (problem.rule, problem.severity.value, problem.message),
                {
                    "rule": problem.rule,
                    "severity": problem.severity.value,
                    "message": problem.message,
                    "count": 0,
                    "examples": [],
                },
            )
            entry["count"] += 1
            if problem.value not in entry["examples"] and len(entry["examples"]) < MAX_EXAMPLES:
                entry["examples"].append(problem.value)
        compiled = self._values
        if compiled is not None and not compiled.takes_any and compiled.lookup(before) is MISS:
            self.unknown[key] += 1

    def unknown_values(self) -> list[dict[str, Any]]:
        if not self.target or not self.unknown:
            return []
        found = {s.value: s for s in suggest_values(self.object_type, self.target, self.unknown)}
        out = []
        for value, count in self.unknown.most_common(MAX_UNKNOWN):
            suggestion = found.get(value)
            out.append(
                {
                    "value": value,
                    "count": count,
                    "suggestion": suggestion.target if suggestion else None,
                    "confidence": suggestion.confidence if suggestion else None,
                }
            )
        return out

    def status(self) -> str:
        if self.target is None:
            return "unmapped"
        severities = {p["severity"] for p in self.problems.values()}
        if "error" in severities:
            return "error"
        if severities or self.unknown:
            return "warning"
        return "ok"

    def out(self) -> dict[str, Any]:
        return {
            "header": self.header,
            "target": self.target,
            "status": self.status(),
            "filled": self.filled,
            "samples": [{"before": k, "after": v} for k, v in self.samples.items()],
            "problems": sorted(self.problems.values(), key=lambda p: -p["count"]),
            "unknown_values": self.unknown_values(),
        }


def suggested_value_maps(reports: Iterable[ColumnReport]) -> dict[str, dict[str, Any]]:
    """Value maps to send back with the import: each column's own entries plus suggestions."""
    out: dict[str, dict[str, Any]] = {}
    for report in reports:
        suggested = {
            u["value"]: u["suggestion"] for u in report.unknown_values() if u["suggestion"]
        }
        if not suggested:
            continue
        base = report.value_map or ValueMap()
        entries = {**suggested, **base.values}
        out[report.header] = base.model_copy(update={"values": entries}).model_dump(
            mode="json", exclude_defaults=True
        )
    return out
