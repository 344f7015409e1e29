"""One translation system: the gettext catalogs in locale/, which Django's pages and the engine
both read. They hold exactly the messages the code marks, each translated in every language, and
the committed .mo files are what their .po files compile to (only the .mo files are read)."""

import ast
import json
import re
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils.translation.template import templatize

from tracking.engine.catalog import EXERCISES
from tracking.engine.i18n import LANGUAGES, LOCALE_DIR
from tracking.engine.scoring import SHALLOW
from tracking.management.commands.makemessages import SKIPPED
from tracking.page_text import LIVE_PAGE, UPLOAD_PAGE

ROOT = Path(__file__).resolve().parents[1]
TRANSLATED = [language for language in LANGUAGES if language != "en"]
# What makemessages extracts: Django's markers and the engine's N_.
MARKERS = {"N_", "gettext", "gettext_lazy", "gettext_noop", "_"}
# Words a language writes as English does.
SAME_WORD = {"fr": {"Score"}}
TEMPLATE_CALL = re.compile(r"""\b(?:gettext|_)\((u?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"))\)""")
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\(\w+\)[sd]")


def catalog(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.po"))


def sources():
    for path in sorted(ROOT.rglob("*")):
        parts = path.relative_to(ROOT).parts
        skipped = any(part.startswith(".") for part in parts) or any(
            parts[: len(skip.split("/"))] == tuple(skip.split("/")) for skip in SKIPPED
        )
        if not skipped and path.suffix in (".py", ".html", ".txt") and path.is_file():
            yield path


def marked(path: Path) -> set[str]:
    """The literal messages a file marks, as makemessages reads them."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return {ast.literal_eval(literal) for literal in TEMPLATE_CALL.findall(templatize(text))}
    found = set()
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        message = node.args[0]
        if name in MARKERS and isinstance(message, ast.Constant) and isinstance(message.value, str):
            found.add(message.value)
    return found


def test_django_and_the_engine_speak_the_same_languages_each_with_a_catalog():
    assert [code for code, _ in settings.LANGUAGES] == list(LANGUAGES)
    assert [Path(path) for path in settings.LOCALE_PATHS] == [LOCALE_DIR]
    assert sorted(path.name for path in LOCALE_DIR.iterdir()) == sorted(TRANSLATED)


def test_the_catalogs_hold_exactly_the_messages_the_code_marks():
    in_code = set().union(*(marked(path) for path in sources()))
    assert "Keep your chest up" in in_code and "Count" in in_code  # engine and templates
    for language in TRANSLATED:
        in_catalog = {entry.msgid for entry in catalog(language)}
        assert (sorted(in_code - in_catalog), sorted(in_catalog - in_code)) == ([], []), (
            f"locale/{language} is out of date: python manage.py makemessages -a"
        )


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language):
    for entry in catalog(language):
        assert entry.msgstr.strip() and not entry.fuzzy and not entry.obsolete, entry.msgid
        assert entry.msgstr != entry.msgid or entry.msgid in SAME_WORD.get(language, ()), (
            f"{entry.msgid!r} is not translated into {language}"
        )
        assert Counter(PLACEHOLDER.findall(entry.msgstr)) == Counter(
            PLACEHOLDER.findall(entry.msgid)
        ), entry.msgid


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_is_its_po_file(language):
    po = catalog(language)
    mo = polib.mofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.mo"))
    assert {entry.msgid: entry.msgstr for entry in mo} == {
        entry.msgid: entry.msgstr for entry in po
    }, f"locale/{language}: python manage.py compilemessages, and commit the .mo file"
    assert mo.metadata["Plural-Forms"] == po.metadata["Plural-Forms"]


def embedded(html: str, element_id: str) -> dict:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    assert match, f"the page embeds {element_id}"
    return json.loads(match.group(1))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "lang", "count", "loading"),
    [
        (None, "en", "Count", "Loading pose model… {percent}%"),
        ("fr", "fr", "Compteur", "Chargement du modèle de pose… {percent} %"),
        ("es-ES", "es", "Contador", "Cargando el modelo de pose… {percent} %"),
        ("de", "de", "Zähler", "Posenmodell wird geladen… {percent} %"),
        ("it", "en", "Count", "Loading pose model… {percent}%"),
    ],
)
def test_the_live_page_speaks_its_language(client, acme_token, language, lang, count, loading):
    query = {"token": acme_token, "exercise": "squat", "language": language or ""}
    html = client.get("/pose_tracker/tracking", query).content.decode()
    assert f'<html lang="{lang}">' in html
    assert f'aria-label="{count}"' in html
    text = embedded(html, "formtrack-text")
    assert set(text) == set(LIVE_PAGE) and text["loading_model_percent"] == loading


@pytest.mark.django_db
def test_the_upload_page_in_spanish(client, acme_token):
    query = {"token": acme_token, "exercise": "squat", "language": "es"}
    html = client.get("/pose_tracker/upload_tracking", query).content.decode()
    assert '<h2 id="reps-title">Repeticiones</h2>' in html and "Elige un vídeo" in html
    text = embedded(html, "formtrack-text")
    assert set(text) == {*UPLOAD_PAGE, "faults", "movements"}
    assert text["average_score"] == "Puntuación media" and text["movements"] == {}
    # A rep's faults, said as the engine's cue for each, in the page's language.
    assert text["faults"]["knees_cave"] == "Empuja las rodillas hacia fuera"
    assert set(text["faults"]) == {check.id for check in EXERCISES["squat"].checks} | {SHALLOW}


@pytest.mark.django_db
def test_an_assessments_upload_page_names_its_movements_in_the_pages_language(client, acme_token):
    query = {"token": acme_token, "exercise": "shoulder_rom", "language": "de"}
    text = embedded(
        client.get("/pose_tracker/upload_tracking", query).content.decode(), "formtrack-text"
    )
    assert text["movements"] == {
        "shoulder_abduction": "Schulterabduktion",
        "shoulder_flexion": "Schulterbeugung",
    }
    assert text["measured_left"] == "{movement}, linke Seite"


@pytest.mark.django_db
def test_a_refused_page_speaks_the_language_asked_for(client, acme_token):
    query = {"token": acme_token, "exercise": "squats", "language": "fr"}
    response = client.get("/pose_tracker/tracking", query)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Impossible de démarrer le suivi" in html
    assert "n'est pas encore configurée pour le suivi" in html
    assert "vouliez-vous dire squat ?" in html  # for the app's developer, folded away
