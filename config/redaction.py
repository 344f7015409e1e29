"""Keep API tokens out of logs: the contract puts them in page URLs, so every log line that may
carry a URL goes through `redact`."""

import logging
import re

_TOKEN_IN_QUERY = re.compile(
    r"((?:^|[?&;\s\"'])(?:token|ticket|upload_ticket|session)=)[^&\s\"';]+", re.IGNORECASE
)
_BARE_TOKEN = re.compile(r"\b(ft_(?:live|pub)_)[A-Za-z0-9]{8,}")


def redact(text: str) -> str:
    text = _TOKEN_IN_QUERY.sub(r"\1[redacted]", text)
    return _BARE_TOKEN.sub(r"\1[redacted]", text)


class RedactTokensFilter(logging.Filter):
    """A logging filter that rewrites each record's message with tokens redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
