"""The engine's side of FormTrack's one translation system: gettext catalogs.

Messages are written in English where they are defined and marked with `N_`, which our
`manage.py makemessages` (tracking/management/commands/makemessages.py) extracts into
locale/<language>/LC_MESSAGES/django.po (README "Translations"). `translate` reads the compiled
catalogs, the same ones Django's pages read, with the standard library's gettext. English is the
source language and has no catalog; a message missing from a catalog reads in English too.
"""

import gettext
from functools import cache
from pathlib import Path

# The languages trackers speak; any other reads in English. config.settings.LANGUAGES names them.
LANGUAGES = ("en", "fr", "es", "de")
LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale"
DOMAIN = "django"


def N_(message: str) -> str:
    """Marks `message` for the catalogs; it is translated when said, in the tracker's language."""
    return message


def spoken(language: str) -> str:
    """The language a tracker speaks when asked for `language`: English unless it is ours."""
    return language if language in LANGUAGES else "en"


@cache
def _catalog(language: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)


def translate(message: str, language: str) -> str:
    """`message` (an English msgid marked with N_) in `language`."""
    return _catalog(spoken(language)).gettext(message)
