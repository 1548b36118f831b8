"""Keep secrets out of every text the app relays or logs: the API key and any bearer token.

An API (or a proxy in front of it) may echo the request's `Authorization` header in an
error body; that text reaches a visitor's page and the log. Both pass through `redact`.
"""

from __future__ import annotations

import logging
import re
from typing import Iterable

MASK = "***"
# "Bearer <token>" in any case, with the token's usual alphabet (RFC 6750 b64token).
_BEARER = re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9\-._~+/]+=*")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with every known secret and every `Bearer <token>` replaced by ***."""
    for secret in secrets:
        if secret and len(secret) >= 4:  # a 1-3 character "key" would shred ordinary text
            text = text.replace(secret, MASK)
    return _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


class RedactingFilter(logging.Filter):
    """A handler filter that redacts each record's final message (arguments included)."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


def redact_logs(secrets: Iterable[str | None] = (), logger: logging.Logger | None = None) -> RedactingFilter:
    """Attach one RedactingFilter to every handler of `logger` (the root logger by default).

    Handler filters, not logger filters: a logger's filter never sees records that
    propagate up from child loggers such as `urllib3`.
    """
    target = logger or logging.getLogger()
    redactor = RedactingFilter(secrets)
    for handler in target.handlers:
        handler.addFilter(redactor)
    return redactor
