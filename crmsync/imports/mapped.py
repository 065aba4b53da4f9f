"""A job's rows read, mapped, checked and (often) dedup-checked ahead of the writer.

For a large file this runs in a second process a few batches ahead, while the importing
process writes: an import keeps two cores busy. A small file is mapped in the importing
process, since starting a second one costs about a second. Either way the writer gets
the same ``MappedBatch`` objects.

Rows the records service would refuse (``parse_fields``, which ``RowMapper`` runs) fail
here, before dedup, so a row that will not be written never stands in the dedup index.
That leaves the writer nothing to tell dedup, so the second process also holds the dedup
index and checks each batch, unless the rows set a reference (a company or contact id),
whose check needs the database and may still refuse a row after dedup saw it.

The second process is started with ``spawn`` (it is safe in a process running other
threads, such as the API's), reads at most ``AHEAD`` batches ahead of the writer, and
stops as soon as the writer closes its batches or the importing process dies.

Python's cyclic garbage collector was a large share of both sides' time: every row makes
a few dicts and lists, all alive, and each full collection walks every object of the
process. The second process freezes what it holds once it is set up (its modules and the
dedup index: ``gc.freeze``), and the importing process unpickles and writes a batch with
the collector paused (``gc_paused``).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import queue
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Final

import polars as pl
import structlog

from crmsync.dedup.engine.prepared import prepare
from crmsync.dedup.guard import GuardSource, Matched, dedup_input
from crmsync.imports.errors import ImportProblem
from crmsync.imports.readers import open_table
from crmsync.imports.rowmap import RowMapper
from crmsync.imports.settings import ImportSettings
from crmsync.imports.table import SourceRow, TableReader
from crmsync.imports.valuemaps import ValueMap
from crmsync.quality.normalize import normal_emails
from crmsync.quality.validation import Severity

log = structlog.get_logger("crmsync.imports")

# Batches the mapping process may have ready before the writer takes them.
AHEAD: Final = 2
# How often a blocked side looks up whether the other is still there, in seconds.
_POLL: Final = 0.5


def row_key(row: SourceRow) -> str:
    """The provisional key a row has in dedup until its record exists."""
    return f"row:{row.number}"


@dataclass
class MappedBatch:
    """One batch of source rows: the ones that failed, and the others' record fields."""

    rows: list[SourceRow]
    failed: list[tuple[SourceRow, list[str]]] = field(default_factory=list)
    valid: list[tuple[SourceRow, dict[str, Any]]] = field(default_factory=list)
    # ``valid`` through dedup's ``prepare``, keyed by ``row_key``; None without dedup
    dedup: pl.DataFrame | None = None
    # row key -> (duplicate | possible, key of what it matched, score), when the mapping
    # side checked the batch
    duplicates: dict[str, Matched] | None = None
    # row number -> the warnings of a row that imports (its bad values were left out)
    warnings: dict[int, list[str]] = field(default_factory=dict)
    # numbers of the valid rows whose fields are not ``parse_fields``' own answer (the
    # others are written without parsing them again)
    unparsed: set[int] = field(default_factory=set)
    # the valid rows' e-mail addresses that are normalize_email's own answers (their
    # normal form, as the mapping found them): the writer's email keys, not parsed again
    normal_emails: list[str] = field(default_factory=list)

    def keyed(self) -> list[tuple[str, dict[str, Any]]]:
        """The valid rows' fields under their dedup keys, as ``check_batch`` takes them."""
        return [(row_key(row), fields) for row, fields in self.valid]


@dataclass(frozen=True)
class BatchSource:
    """Everything that reads and maps a job's rows, in a form another process can take."""

    path: Path
    filename: str
    file_format: str | None
    sheet: str | None
    limits: dict[str, Any]
    object_type: str
    columns: dict[str, str | None]
    region: str
    cleanse: bool
    validate: bool
    batch_size: int
    # the region dedup prepares phones for; None when the job does not dedup
    dedup_region: str | None
    # set when this side checks duplicates too: where and how to load the dedup index
    dedup_index: GuardSource | None = None
    header_row: int | None = None
    value_maps: dict[str, ValueMap] = field(default_factory=dict)
    # rule -> severity: the workspace's overrides with the import's laid over them
    severity: dict[str, Severity] = field(default_factory=dict)
    keep_invalid: bool = False

    def settings(self) -> ImportSettings:
        return ImportSettings(**self.limits)

    def mapper(self) -> RowMapper:
        return RowMapper(
            self.object_type,
            self.columns,
            region=self.region,
            cleanse=self.cleanse,
            validate=self.validate,
            value_maps=self.value_maps,
            severity=self.severity,
            keep_invalid=self.keep_invalid,
        )

    def map(self, mapper: RowMapper, rows: list[SourceRow]) -> MappedBatch:
        batch = MappedBatch(rows)
        readable = [row for row in rows if not row.problem]
        # the records service's own checks run in map: refused here, not after dedup
        # (map_batch parses the batch's phones together, as ``prepare`` does)
        answers = iter(mapper.map_batch([row.values for row in readable]))
        for row in rows:
            if row.problem:
                batch.failed.append((row, [row.problem]))
                continue
            mapped = next(answers)
            if mapped.problems and mapped.errors:
                batch.failed.append((row, mapped.errors + mapped.warnings))
                continue
            if mapped.problems:
                batch.warnings[row.number] = mapped.warnings
            if not mapped.parsed:
                batch.unparsed.add(row.number)
            batch.valid.append((row, mapped.fields))
        batch.normal_emails = normal_emails(fields.get("email") for _row, fields in batch.valid)
        if self.dedup_region is not None:
            inputs = [dedup_input(row_key(row), fields) for row, fields in batch.valid]
            batch.dedup = prepare(inputs, self.dedup_region)
        return batch

    def reader(self) -> TableReader:
        return open_table(
            self.path,
            self.filename,
            self.settings(),
            sheet=self.sheet,
            file_format=self.file_format,
            header_row=self.header_row,
        )

    def batches(self, start: int, ready: Callable[[], None] | None = None) -> Iterator[MappedBatch]:
        """The mapped batches of the rows from number ``start`` on; ``ready`` is called
        once the mapper and the dedup index are loaded."""
        mapper = self.mapper()
        guard = self.dedup_index.load() if self.dedup_index is not None else None
        if ready is not None:
            ready()
        rows = islice(self.reader().rows(), start, None)
        while batch := list(islice(rows, self.batch_size)):
            mapped = self.map(mapper, batch)
            if guard is not None:
                mapped.duplicates = guard.check_batch(mapped.keyed(), mapped.dedup)
                mapped.dedup = None  # used up: the writer needs only the answers
            yield mapped


class MappedBatches:
    """The mapped batches of a job from row ``start``, made here or in a second process.

    The second process starts at once, so it maps while the caller does other work
    (counting the file's rows). ``close`` stops it; iterating raises the
    ``ImportProblem`` the file gave (a row past the limit, an unreadable part).
    """

    def __init__(self, source: BatchSource, start: int, in_second_process: bool) -> None:
        self.source = source
        self.start = start
        self._process: BaseProcess | None = None
        if in_second_process:
            context = multiprocessing.get_context("spawn")
            self._queue: Any = context.Queue(maxsize=AHEAD)
            self._process = context.Process(
                target=_produce,
                args=(source, start, self._queue, os.getpid()),
                name="crmsync-import-mapping",
                daemon=True,
            )
            self._process.start()

    def __iter__(self) -> Iterator[MappedBatch]:
        if self._process is None:
            yield from self.source.batches(self.start)
            return
        while True:
            kind, value = self._next()
            if kind == "batch":
                yield _unpickled(value)
            elif kind == "done":
                return
            elif kind == "problem":
                raise value
            else:
                raise RuntimeError(f"the import's mapping process failed:\n{value}")

    def _next(self) -> tuple[str, Any]:
        assert self._process is not None
        while True:
            try:
                item: tuple[str, Any] = self._queue.get(timeout=_POLL)
                return item
            except queue.Empty:
                if self._process.is_alive():
                    continue
                try:  # it may have put its last item just before it ended
                    item = self._queue.get(timeout=_POLL)
                    return item
                except queue.Empty:
                    code = self._process.exitcode
                    return "crash", f"it ended with exit code {code} before the last batch"

    def close(self) -> None:
        if self._process is None:
            return
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(5)
        self._queue.close()
        self._queue.cancel_join_thread()
        self._process = None

    def __enter__(self) -> MappedBatches:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a batch's work (in the whole process, briefly).

    A batch makes thousands of dicts, lists and tuples that stay alive until it is done
    (few garbage cycles), and the collections they set off walk every object of the
    process: two thirds of the time of unpickling a batch, an eighth of writing one.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _unpickled(data: bytes) -> MappedBatch:
    """A batch from the second process (its bytes, as a Queue's items always were)."""
    with gc_paused():
        batch: MappedBatch = pickle.loads(data)  # noqa: S301
    return batch


def _put(out: Any, item: tuple[str, Any], parent: int) -> bool:
    """Hand ``item`` to the writer; False when the importing process is gone."""
    while os.getppid() == parent:
        try:
            out.put(item, timeout=_POLL)
            return True
        except queue.Full:
            continue
    return False


def _produce(source: BatchSource, start: int, out: Any, parent: int) -> None:
    """The second process: map every batch from ``start`` into ``out``, then say done."""
    try:
        # what the process holds once set up lives to its end: out of the collector's walks
        for batch in source.batches(start, ready=gc.freeze):
            data = pickle.dumps(batch, pickle.HIGHEST_PROTOCOL)
            if not _put(out, ("batch", data), parent):
                return
        _put(out, ("done", None), parent)
    except ImportProblem as exc:
        _put(out, ("problem", exc), parent)
    except BaseException:
        _put(out, ("crash", traceback.format_exc()), parent)
