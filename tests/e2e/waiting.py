"""Waiting for something another thread or process makes true.

A wait is on the condition the test is about; its timeout is only an outer bound against
hanging, generous enough that a starved machine slows a test down but never fails it.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any

PATIENCE = 300.0  # seconds: a bound against hanging, not a timing assertion


def wait_for(
    check: Callable[[], Any],
    timeout: float = PATIENCE,
    process: subprocess.Popen[Any] | None = None,
) -> Any:
    """``check()``'s first truthy answer; AssertionError when none comes in time, or at
    once when `process` (the one expected to make it true) exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process exited ({process.returncode}) first")
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
