#!/usr/bin/env python3
"""Set-up and task runner that needs nothing but Python 3.11.

    python3 dev.py demo     # make .venv, install, run the embedded demo
    python3 dev.py test     # make .venv, install, run lint, types and the test suite

The virtualenv is (re)installed whenever pyproject.toml or the constraints file
changes, so both commands work on a fresh clone and stay fast afterwards.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
STAMP = VENV / ".crmsync-installed"


def _run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    code = subprocess.call([str(a) for a in args], cwd=ROOT, env=env)  # noqa: S603
    if code:
        sys.exit(code)


def _fingerprint(extras: str) -> str:
    digest = hashlib.sha256(extras.encode())
    for path in (ROOT / "pyproject.toml", CONSTRAINTS):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_venv(extras: str = "dev") -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"crmsync needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print(f"creating virtualenv in {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    wanted = _fingerprint(extras)
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "-c", CONSTRAINTS, "-e", f".[{extras}]")
    STAMP.write_text(wanted)


def demo(args: list[str]) -> None:
    ensure_venv()
    _run(BIN / "crmsync", "demo", *args)


def lint() -> None:
    ensure_venv()
    _run(BIN / "ruff", "check", ".")
    _run(BIN / "ruff", "format", "--check", ".")
    _run(BIN / "mypy")


def test(args: list[str]) -> None:
    ensure_venv("dev,bench")
    lint()
    _run(
        BIN / "crmsync",
        "migrate",
        "--check",
        env={**os.environ, "CRMSYNC_DATABASE_URL": "sqlite:///./.venv/migration-check.db"},
    )
    if os.environ.get("CRMSYNC_PG_CHECK_URL"):
        _run(
            BIN / "crmsync",
            "migrate",
            "--check",
            env={**os.environ, "CRMSYNC_DATABASE_URL": os.environ["CRMSYNC_PG_CHECK_URL"]},
        )
    _run(BIN / "python", "-m", "pytest", *args)


COMMANDS = {"demo": demo, "test": test}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {*COMMANDS, "lint", "install"}:
        sys.exit(__doc__)
    name, rest = sys.argv[1], sys.argv[2:]
    if name == "lint":
        lint()
    elif name == "install":
        ensure_venv("dev,bench")
    else:
        COMMANDS[name](rest)


if __name__ == "__main__":
    main()
