"""Keep API tokens and signed media links out of logs: the contract puts tokens in page URLs, and
a `/files/<signed>` path opens its file for days, so every log line that may carry a URL goes
through `redact`."""

import logging
import re

_TOKEN_IN_QUERY = re.compile(
    r"((?:^|[?&;\s\"'])(?:token|ticket|upload_ticket|session)=)[^&\s\"';]+", re.IGNORECASE
)
_BARE_TOKEN = re.compile(r"\b(ft_(?:live|pub)_)[A-Za-z0-9]{8,}")
# The signed part of a media link (tracking.media_links.media_link) is the permission itself.
_SIGNED_MEDIA_LINK = re.compile(r"(/files/)[^/\s\"'?#]+")


def redact(text: str) -> str:
    text = _TOKEN_IN_QUERY.sub(r"\1[redacted]", text)
    text = _SIGNED_MEDIA_LINK.sub(r"\1[redacted]", text)
    return _BARE_TOKEN.sub(r"\1[redacted]", text)


class RedactTokensFilter(logging.Filter):
    """A logging filter that rewrites each record's message with tokens redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
