"""Structured service logs: one JSON object per line with the caller's extra fields."""

from __future__ import annotations

import json
import logging
import logging.config
import sys

from adrank_pipelines.serving.logs import JsonFormatter, uvicorn_log_config


def test_a_record_is_one_json_line_with_its_extra_fields():
    record = logging.makeLogRecord(
        {"name": "adrank_pipelines.serving", "levelname": "INFO", "msg": "ready in %.1f s", "args": (2.5,)}
    )
    record.batch_size = 8
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "ready in 2.5 s"
    assert entry["level"] == "INFO" and entry["logger"] == "adrank_pipelines.serving"
    assert entry["batch_size"] == 8


def test_an_exception_adds_its_traceback():
    try:
        raise ValueError("bad artifact")
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: bad artifact" in entry["exception"]


def test_the_uvicorn_config_is_accepted_by_dict_config():
    config = uvicorn_log_config()
    logging.config.dictConfig(config)
    assert set(config["loggers"]) >= {"uvicorn.access", "adrank_pipelines"}
