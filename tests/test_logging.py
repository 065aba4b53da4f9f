"""One format per process: uvicorn's own lines come out as crmsync's do."""

from __future__ import annotations

import io
import json
import logging

import uvicorn

from crmsync.logging import adopt_uvicorn_loggers, configure


def test_production_renders_uvicorn_lines_as_json() -> None:
    logging.getLogger("uvicorn.error").setLevel(logging.ERROR)  # as an earlier server left it
    stream = io.StringIO()
    configure("INFO", json=True, stream=stream)
    # as `crmsync serve` runs it: uvicorn leaves logging to crmsync, and sets no level
    uvicorn.Config(app=lambda: None, log_config=None)
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    logging.getLogger("crmsync.test").warning("disk nearly full")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["event"] == "Started server process [42]"
    assert (lines[0]["level"], lines[0]["logger"]) == ("info", "uvicorn.error")
    assert lines[1]["event"] == "disk nearly full" and "timestamp" in lines[1]


def test_a_default_uvicorn_config_is_taken_back() -> None:
    stream = io.StringIO()
    configure("INFO", json=True, stream=stream)
    uvicorn.Config(app=lambda: None, log_level="info")  # installs uvicorn's own handlers
    adopt_uvicorn_loggers()
    logging.getLogger("uvicorn.error").info("Application startup complete.")
    assert json.loads(stream.getvalue().splitlines()[-1])["event"] == (
        "Application startup complete."
    )


def test_the_demo_renders_console_lines() -> None:
    stream = io.StringIO()
    configure("WARNING", json=False, stream=stream)
    logging.getLogger("uvicorn.error").warning("port busy")
    logging.getLogger("uvicorn.error").info("not shown below WARNING")
    text = stream.getvalue()
    assert "port busy" in text and "not shown" not in text and not text.startswith("{")
