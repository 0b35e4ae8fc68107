"""Structured logs: one JSON object per line, for the service's and uvicorn's loggers."""

from __future__ import annotations

import json
import logging
from typing import Any

# LogRecord attributes that are not a caller's ``extra`` fields.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", ...extra fields}``; an exception adds its traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= {key: value for key, value in vars(record).items() if key not in _STANDARD}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def uvicorn_log_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document that uvicorn applies in every worker."""
    formatter = f"{__name__}.JsonFormatter"
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": formatter}},
        "handlers": {"json": handler},
        "loggers": {
            name: {"handlers": ["json"], "level": level, "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "adrank_pipelines", "kedro")
        },
    }
