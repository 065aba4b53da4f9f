"""``crmsync import FILE``: run an import job in this process with a progress bar, or
(``--preview``) say what importing would do on a sample, with what to change first."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from crmsync.config import Settings
from crmsync.imports import jobs
from crmsync.imports.errors import ImportProblem
from crmsync.imports.mapping_file import Columns, ValueMaps, read_mapping_text
from crmsync.imports.options import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, ImportOptions, OnDuplicate
from crmsync.imports.outcomes import outcome_csv
from crmsync.imports.preview import preview_file
from crmsync.imports.runner import run_import
from crmsync.imports.settings import ImportSettings
from crmsync.mapping.errors import MappingFileError
from crmsync.mapping.schema import ObjectType
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.models.imports import ImportJob, ImportStatus

err = Console(stderr=True)


def read_mapping(path: Path, object_type: str) -> tuple[Columns, ValueMaps]:
    """Header -> field and header -> value map from a YAML file (``mapping_file``)."""
    return read_mapping_text(path.read_text(encoding="utf-8"), object_type)


def _severity(entries: list[str]) -> dict[str, str]:
    """``phone=error`` entries as a severity table."""
    table: dict[str, str] = {}
    for entry in entries:
        rule, _, level = entry.partition("=")
        if not rule or level not in ("error", "warning"):
            raise typer.BadParameter(f"{entry!r}: write RULE=error or RULE=warning")
        table[rule.strip()] = level
    return table


def _summary(job: ImportJob, seconds: float) -> Table:
    table = Table(title=f"import {job.id}")
    names = ("status", "imported", "updated", "duplicates", "possible duplicates", "failed", "time")
    for name in names:
        table.add_column(name, justify="right")
    table.add_row(
        job.status,
        str(job.created),
        str(job.updated),
        str(job.duplicates),
        # imported, and waiting in GET /api/v1/contacts/duplicates?status=possible
        str(job.possible_duplicates),
        str(job.failed),
        f"{seconds:.1f} s",
    )
    return table


def _print_hints(preview: dict[str, Any]) -> None:
    for hint in preview["hints"]:
        err.print(f"[yellow]{hint['message']}[/yellow]", markup=True, highlight=False)


def _print_preview(preview: dict[str, Any]) -> None:
    """The mapping, each column's problems, the sample's outcome and the hints."""
    sample = preview["sample"]
    table = Table(title=f"preview of {sample['rows']} sample rows")
    for name in ("column", "imported as", "filled", "problems"):
        table.add_column(name)
    for column in preview["columns"]:
        problems = "; ".join(f"{p['message']} ({p['count']})" for p in column["problems"])
        target = column["target"] or "(not imported)"
        table.add_row(column["header"], target, str(column["filled"]), problems)
    err.print(table)
    err.print(
        f"would import {sample['would_import']}, fail {sample['would_fail']}, "
        f"duplicates {sample['duplicates']}"
    )
    _print_hints(preview)


def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The lead file.")],
    workspace: Annotated[uuid.UUID, typer.Option(help="Workspace id.")],
    object_type: Annotated[
        ObjectType, typer.Option("--object", help="Record type the rows become.")
    ] = ObjectType.CONTACTS,
    mapping: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="YAML 'header: field' (or 'header: {field, values, status_map, unknown}'), "
            "or a mapping document; default: suggested.",
        ),
    ] = None,
    on_duplicate: Annotated[
        OnDuplicate,
        typer.Option(
            help="What a row the dedup rules call a duplicate does (skip it or update the "
            "record it duplicates); a possible duplicate is imported and queued for review."
        ),
    ] = OnDuplicate.SKIP,
    dry_run: Annotated[bool, typer.Option(help="Check every row, write no record.")] = False,
    preview: Annotated[
        bool,
        typer.Option(
            help="Show what importing would do on a sample (and what to change first); "
            "create no job."
        ),
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=MAX_BATCH_SIZE)] = DEFAULT_BATCH_SIZE,
    sheet: Annotated[str | None, typer.Option(help="XLSX sheet; default: the first.")] = None,
    region: Annotated[
        str, typer.Option(help="Country of phone numbers written without a country code.")
    ] = "US",
    header_row: Annotated[
        int | None,
        typer.Option(min=1, help="Line of the header row; default: detected below title rows."),
    ] = None,
    keep_unmapped: Annotated[
        bool, typer.Option(help="Keep columns mapped to nothing as custom fields.")
    ] = False,
    keep_invalid: Annotated[
        bool, typer.Option(help="Keep a value with a warning in custom_fields.<field>.")
    ] = False,
    severity: Annotated[
        list[str] | None,
        typer.Option(help="RULE=error|warning, e.g. phone=error (repeatable)."),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", envvar="CRMSYNC_DATABASE_URL", help="SQLAlchemy URL."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(envvar="CRMSYNC_DATA_DIR", help="Where uploads and reports are kept."),
    ] = None,
) -> None:
    """Import a CSV, TSV, XLSX, JSON or JSON Lines file; exit 1 when any row failed."""
    settings = Settings(**({"database_url": database_url} if database_url else {}))  # type: ignore[arg-type]
    limits = ImportSettings.from_settings(settings, **({"data_dir": data_dir} if data_dir else {}))
    sessions = make_sessionmaker(make_engine(settings.database_url))
    started = time.perf_counter()
    try:
        columns, value_maps = read_mapping(mapping, object_type.value) if mapping else (None, {})
        options = ImportOptions.model_validate(
            {
                "object_type": object_type.value,
                "on_duplicate": on_duplicate,
                "dry_run": dry_run,
                "batch_size": batch_size,
                "sheet": sheet,
                "region": region.upper(),
                "header_row": header_row,
                "keep_unmapped": keep_unmapped,
                "keep_invalid": keep_invalid,
                "value_maps": value_maps,
                "severity": _severity(severity or []),
            }
        )
        # an import only needs the hints: its sample skips the duplicate check
        looked = (
            options if preview else options.model_copy(update={"on_duplicate": OnDuplicate.CREATE})
        )
        with session_scope(sessions) as session:
            seen = preview_file(
                file, file.name, limits, looked, columns, session=session, workspace_id=workspace
            )
        if preview:
            _print_preview(seen)
            return
        with session_scope(sessions) as session, file.open("rb") as data:
            job = jobs.create_job(
                session,
                workspace,
                limits,
                filename=file.name,
                data=data,
                options=options,
                columns=columns,
            )
            jobs.start_job(job)
    except (ImportProblem, MappingFileError, ValidationError) as exc:
        err.print(f"[red]cannot import {file.name}:[/red] {exc}")
        raise typer.Exit(2) from None
    err.print("mapping: " + ", ".join(f"{h} -> {t}" for h, t in job.mapping.items()))
    _print_hints(seen)
    columns_ = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns_, TimeRemainingColumn(), console=err) as bar:
        task = bar.add_task(file.name, total=None)

        def on_batch(current: ImportJob) -> None:
            bar.update(task, total=current.total_rows, completed=current.next_row)

        status = run_import(sessions, job.id, limits=limits, on_batch=on_batch)
    with sessions() as session:
        final = session.get(ImportJob, job.id)
        assert final is not None
        err.print(_summary(final, time.perf_counter() - started))
        if status != ImportStatus.FAILED:
            outcome = limits.uploads_dir / str(final.id) / "outcomes.csv"
            with outcome.open("w", encoding="utf-8", newline="") as out:
                out.writelines(outcome_csv(session, limits, final))
            err.print("every row's outcome (created, updated, duplicate, failed):")
            typer.echo(str(outcome))
        if status == ImportStatus.FAILED:
            err.print(f"[red]the import failed:[/red] {final.error}")
            raise typer.Exit(1)
        if final.failed:
            report = limits.uploads_dir / str(final.id) / "errors.csv"
            with report.open("w", encoding="utf-8", newline="") as out:
                out.writelines(jobs.errors_csv(session, final))
            typer.echo(str(report))
            err.print(f"[yellow]{final.failed} rows failed; their report: {report}[/yellow]")
            raise typer.Exit(1)
