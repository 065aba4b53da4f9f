"""One log format per process: JSON lines (production, ``serve``, ``worker``) or readable
console lines (the demo), for crmsync's own structlog events and for every standard
``logging`` record alike (uvicorn's, SQLAlchemy's, the sandboxes'), with the request id
bound by the API middleware."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

# uvicorn gives these loggers handlers of their own unless told not to (log_config=None)
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
HANDLER_NAME = "crmsync"


def configure(level: str = "INFO", *, json: bool = True, stream: TextIO | None = None) -> None:
    """Render everything that logs in this process one way, to ``stream`` (stderr)."""
    out = stream or sys.stderr
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    # Standard-library records (uvicorn's own lines among them) through the same renderer.
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    handler.set_name(HANDLER_NAME)
    handler.setLevel(numeric)  # whatever level a library gives its own loggers
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    # Loggers without a level of their own (httpx logs every request at INFO) stay quiet
    # below WARNING; uvicorn sets its loggers' levels itself.
    root.setLevel(max(numeric, logging.WARNING))
    logging.getLogger("uvicorn").setLevel(numeric)  # "Started server process" is INFO
    adopt_uvicorn_loggers()


def adopt_uvicorn_loggers() -> None:
    """Send uvicorn's loggers to the root handler again: each ``uvicorn.Config`` made with
    its default log config installs plain-text handlers of its own."""
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
        if name != "uvicorn":  # their level is the "uvicorn" logger's, set by configure
            logger.setLevel(logging.NOTSET)


def reset() -> None:
    """Back to the libraries' defaults (tests: each starts from them)."""
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)
