#!/usr/bin/env python3
"""Set-up and task runner that needs nothing but Python 3.11.

    python3 dev.py demo     # make .venv, install crmsync alone, run the embedded demo
    python3 dev.py test     # make .venv, add the dev and bench tools, run lint (ruff,
                            # mypy, deptry), the migration checks and the test suite

The virtualenv is (re)installed whenever pyproject.toml or the constraints file
changes, so both commands work on a fresh clone and stay fast afterwards. Each set-up
step prints one line; pip's own output shows only when it fails.
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


def _step(what: str, *args: str | Path) -> None:
    """One line saying what happens; the tool's own output only when it fails."""
    print(what, flush=True)
    quiet = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_ROOT_USER_ACTION": "ignore"}
    done = subprocess.run(  # noqa: S603
        [str(a) for a in args], cwd=ROOT, env=quiet, capture_output=True, text=True
    )
    if done.returncode:
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr)
        sys.exit(done.returncode)


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", CONSTRAINTS):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_venv(extras: str = "") -> None:
    """A .venv with crmsync and ``extras`` (comma-separated; "" is the runtime only),
    installed again when pyproject.toml or the constraints change."""
    if sys.version_info < (3, 11):
        sys.exit(f"crmsync needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print(f"creating a virtualenv in {VENV}", flush=True)
        venv.create(VENV, with_pip=True)
    wanted = {e for e in extras.split(",") if e}
    stamp = STAMP.read_text().split() if STAMP.exists() else []
    current = bool(stamp) and stamp[0] == _fingerprint()
    installed = set(stamp[1:]) if current else set()
    if current and wanted <= installed:
        return
    _step("updating pip", BIN / "python", "-m", "pip", "install", "-q", "--upgrade", "pip")
    extras_now = wanted | installed
    target = f".[{','.join(sorted(extras_now))}]" if extras_now else "."
    what = f"extras: {', '.join(sorted(extras_now))}" if extras_now else "runtime dependencies only"
    _step(
        f"installing crmsync ({what}) pinned by {CONSTRAINTS.relative_to(ROOT)}",
        BIN / "python", "-m", "pip", "install", "-q", "-c", CONSTRAINTS, "-e", target,
    )  # fmt: skip
    STAMP.write_text(" ".join([_fingerprint(), *sorted(extras_now)]))


def demo(args: list[str]) -> None:
    ensure_venv()  # the demo needs crmsync alone: no test or benchmark tools
    print("starting the demo", flush=True)
    with subprocess.Popen([str(BIN / "crmsync"), "demo", *args], cwd=ROOT) as child:  # noqa: S603
        try:
            code = child.wait()
        except KeyboardInterrupt:  # the demo got Ctrl-C too, and is stopping
            code = child.wait()
    sys.exit(code)


def lint() -> None:
    ensure_venv("dev")
    _run(BIN / "ruff", "check", ".")
    _run(BIN / "ruff", "format", "--check", ".")
    _run(BIN / "mypy")
    # every third-party module crmsync/ imports is a declared runtime dependency
    _run(BIN / "deptry", "crmsync")


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
