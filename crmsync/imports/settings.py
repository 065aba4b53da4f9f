"""Settings of lead-file imports, read from ``CRMSYNC_*`` like the rest of crmsync."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from crmsync.locations import data_dir_for, database_url


class ImportSettings(BaseSettings):
    """Where uploads are kept and how large a file may be; see docs/imports.md."""

    model_config = SettingsConfigDict(env_prefix="CRMSYNC_", extra="ignore")

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

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "imports"
