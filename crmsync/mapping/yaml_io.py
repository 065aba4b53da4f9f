"""YAML export and import of mapping sets, with errors that name the line and field."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from crmsync.mapping.errors import MappingFileError
from crmsync.mapping.model import MappingSet, ReferenceProblem


def mapping_to_yaml(mapping: MappingSet) -> str:
    """The mapping as a YAML document; values equal to their defaults are left out."""
    data = mapping.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _line_of(root: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the deepest node of ``root`` that ``loc`` reaches."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    child = value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if 0 <= part < len(node.value) else None
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def mapping_from_yaml(text: str) -> MappingSet:
    """Parse and validate a YAML mapping; MappingFileError names the line and field."""
    try:
        data: Any = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = str(exc.problem or exc.context or "invalid YAML")
        if mark is None:
            raise MappingFileError(message) from None
        raise MappingFileError(message, line=mark.line + 1, column=mark.column + 1) from None
    except yaml.YAMLError as exc:
        raise MappingFileError(str(exc)) from None
    if not isinstance(data, dict):
        raise MappingFileError("a mapping document must be a YAML mapping (key: value)", line=1)
    try:
        return MappingSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(p for p in first["loc"] if not str(p).startswith("function-") and p != "[key]")
        message = first["msg"]
        problem = first.get("ctx", {}).get("error")
        if isinstance(problem, ReferenceProblem):
            loc, message = problem.loc, str(problem)
        count = exc.error_count()
        more = f" (and {count - 1} more problems)" if count > 1 else ""
        field = ".".join(str(p) for p in loc)
        raise MappingFileError(message + more, line=_line_of(root, loc), field=field) from None
