"""The limits of lead-file imports, taken from crmsync's one ``Settings`` (``CRMSYNC_*``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from crmsync.config import Settings
from crmsync.locations import data_dir_for, database_url


class ImportSettings(BaseModel):
    """Where uploads are kept and how large a file may be; see docs/imports.md.

    Made from the environment with ``from_settings``; built directly, it holds the
    defaults and what the caller passes (tests, a second process given a copy).
    """

    data_dir: Path = Field(
        default_factory=lambda: data_dir_for(database_url()),
        description="uploaded files live under it; default: beside the SQLite database",
    )
    max_upload_mb: float = Field(10.0, gt=0, description="largest file, after decompression")
    max_rows: int = Field(2_000_000, ge=1, description="rows per file")
    max_columns: int = Field(2_000, ge=1, description="columns per file")
    max_cell_chars: int = Field(100_000, ge=1, description="characters per cell")
    mapping_process_from_mb: float = Field(
        2.0, ge=0, description="files this large are read and mapped in a second process"
    )

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **override: Any) -> ImportSettings:
        """The limits ``settings`` (default: read from the environment now) set."""
        settings = settings or Settings()
        values: dict[str, Any] = {
            "data_dir": settings.files_dir,
            "max_upload_mb": settings.max_upload_mb,
            "max_rows": settings.max_rows,
            "max_columns": settings.max_columns,
            "max_cell_chars": settings.max_cell_chars,
            "mapping_process_from_mb": settings.mapping_process_from_mb,
        }
        return cls(**(values | override))

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "imports"
