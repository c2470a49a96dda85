"""Structured JSON logs with the request id; no personal data.

Log records carry what an operator needs to correlate (request id, route template, status,
duration) and never names, e-mail addresses, IP addresses, tokens or nationality. Code that
logs passes ids, not people.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import time
from typing import Any

import msgspec

__all__ = ["REQUEST_ID", "JsonFormatter", "configure_logging", "log_refusal"]

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_encoder = msgspec.json.Encoder()
# Attributes every LogRecord has; anything else was passed through ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (request_id := REQUEST_ID.get()) is not None:
            line["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _encoder.encode(line).decode()


def configure_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # uvicorn's access log would print client addresses and full query strings (which can
    # hold OAuth codes); our middleware logs a safe access line instead.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs every outbound URL at INFO; provider URLs can carry codes and tokens.
    logging.getLogger("httpx").setLevel(logging.WARNING)


_refusals = logging.getLogger("idsvc.refusals")


def log_refusal(message: str, *, reason: str) -> None:
    """Why something was refused, for operators; callers get one generic answer."""
    _refusals.info(message, extra={"reason": reason})
