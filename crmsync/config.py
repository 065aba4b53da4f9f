"""Settings: one class, read from the environment (prefix ``CRMSYNC_``), failing fast."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from crmsync.locations import DEFAULT_DATABASE_URL, data_dir_for

Mode = Literal["dev", "demo", "test", "production"]

PRODUCTION_NEEDS_KEY = (
    "CRMSYNC_SECRET_KEY is required in production mode: it encrypts CRM credentials at rest. "
    'Make one with: python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
)


class Settings(BaseSettings):
    """Everything crmsync reads from its environment (the README's table lists it).

    No other class reads ``CRMSYNC_*``: features take what they need from here (imports:
    ``ImportSettings.from_settings``).
    """

    model_config = SettingsConfigDict(env_prefix="CRMSYNC_", extra="ignore")

    mode: Mode = "dev"
    database_url: str = DEFAULT_DATABASE_URL
    data_dir: Path | None = Field(
        None, description="uploads and reports; default: beside a SQLite file (crmsync.locations)"
    )
    redis_url: str | None = None
    bus_publish_url: str | None = Field(
        None, description="publish outbound events to this bus (see docs/bus.md)"
    )
    secret_key: SecretStr | None = None
    previous_secret_keys: SecretStr | None = Field(
        None, description="comma-separated keys being rotated out; they still decrypt"
    )
    secret_key_file: str = Field(
        ".crmsync/secret.key", description="dev/demo only: where the generated key is kept"
    )
    base_url: str = "http://127.0.0.1:8000"
    app_url: str | None = Field(
        None,
        description="where the browser goes after an OAuth consent (?integration_id=…"
        "&status=connected); unset: a page of crmsync's own says what was connected",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_mb: float = Field(1.0, gt=0, description="largest JSON request body")
    max_upload_mb: float = Field(10.0, gt=0, description="largest uploaded file")
    # Lead-file imports (docs/imports.md)
    max_rows: int = Field(2_000_000, ge=1, description="rows per imported file")
    max_columns: int = Field(2_000, ge=1, description="columns per imported file")
    max_cell_chars: int = Field(100_000, ge=1, description="characters per imported cell")
    mapping_process_from_mb: float = Field(
        2.0, ge=0, description="import files this large are read and mapped in a second process"
    )
    sandbox_mode: bool = False
    log_level: str = "INFO"
    log_json: bool = True
    sql_echo: bool = False
    succeeded_job_retention_hours: float = Field(
        24.0, ge=0, description="workers delete succeeded sync jobs older than this"
    )
    # OAuth apps registered with each provider (client id public, secret kept secret)
    hubspot_client_id: str | None = None
    hubspot_client_secret: SecretStr | None = None
    salesforce_client_id: str | None = None
    salesforce_client_secret: SecretStr | None = None
    pipedrive_client_id: str | None = None
    pipedrive_client_secret: SecretStr | None = None
    totalexpert_client_id: str | None = None
    totalexpert_client_secret: SecretStr | None = None
    # Alerts by e-mail (docs/alerts.md); no host, no e-mail.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_from: str = "crmsync@localhost"
    smtp_to: str = Field("", description="comma-separated addresses alerts are sent to")
    alert_email_minutes: float = Field(15.0, gt=0, description="at most one digest per this")

    @model_validator(mode="after")
    def _production_needs_secret(self) -> Settings:
        if self.mode == "production" and not self.secret_key:
            raise ValueError(PRODUCTION_NEEDS_KEY)
        return self

    @property
    def files_dir(self) -> Path:
        """Where uploads and error reports are written (see ``crmsync.locations``)."""
        return data_dir_for(self.database_url, self.data_dir)

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


@lru_cache
def get_settings() -> Settings:
    return Settings()
