"""A worker process for the kill test: runs one import job, printing each committed batch.

Usage: python -m tests.imports.killable_worker DATABASE_URL JOB_ID DATA_DIR
"""

from __future__ import annotations

import multiprocessing
import sys
import uuid
from pathlib import Path

from crmsync.imports.runner import run_import
from crmsync.imports.settings import ImportSettings
from crmsync.store.engine import make_engine, make_sessionmaker
from crmsync.store.models.imports import ImportJob


def main() -> None:
    url, job_id, data_dir = sys.argv[1:4]

    def report(job: ImportJob) -> None:
        for child in multiprocessing.active_children():  # the mapping process, if any
            print(f"child {child.pid}", flush=True)
        print(f"batch {job.next_row}", flush=True)

    sessions = make_sessionmaker(make_engine(url))
    limits = ImportSettings.from_settings(data_dir=Path(data_dir))
    run_import(sessions, uuid.UUID(job_id), limits=limits, on_batch=report)
    print("done", flush=True)


if __name__ == "__main__":
    main()
