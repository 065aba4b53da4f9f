"""YAML export and import of mapping sets, with errors that name the line and field."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from crmsync import jsonlimits
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


# Anchors and aliases let a few hundred bytes stand for gigabytes ("billion laughs"): the
# document is measured as if every alias were written out, before anything is built.
MAX_NODES = 50_000
MAX_DEPTH = 32


def _expanded_size(root: yaml.Node | None) -> int:
    """Nodes in the document with every alias written out; MappingFileError beyond limits."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if depth > MAX_DEPTH:
            raise MappingFileError(f"nested deeper than {MAX_DEPTH} levels", line=_line(node))
        if key in open_nodes:
            raise MappingFileError("an alias refers to its own anchor", line=_line(node))
        open_nodes.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
        open_nodes.discard(key)
        if total > MAX_NODES:
            raise MappingFileError(
                f"the document expands to more than {MAX_NODES} values (anchors and aliases "
                "count once per use)",
                line=_line(node),
            )
        sizes[key] = total
        return total

    return size(root, 0) if root is not None else 0


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def mapping_from_yaml(text: str) -> MappingSet:
    """Parse and validate a YAML mapping; MappingFileError names the line and field."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        _expanded_size(root)
        data: Any = yaml.safe_load(text)
    except RecursionError:
        raise MappingFileError(f"nested deeper than {MAX_DEPTH} levels") from None
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
    try:  # what the stores cannot hold (a NUL, a 2**70) is refused like JSON's
        jsonlimits.check(data, plain=False)
    except jsonlimits.JsonRefused as exc:
        raise MappingFileError(exc.message, field=exc.path) from None
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
