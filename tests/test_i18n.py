"""Every user-facing string has a Japanese translation, and the compiled catalog is current."""

import ast
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "ja" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
SOURCES = ["accounts", "checks", "portal"]
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "pgettext", "ngettext"}
TRANSLATE_TAG = re.compile(r"""{%\s*translate\s+(["'])(.+?)\1""")


@pytest.fixture(scope="module")
def catalog():
    return polib.pofile(str(PO))


def test_every_entry_is_translated_and_none_is_fuzzy(catalog):
    assert [e.msgid for e in catalog.untranslated_entries()] == []
    assert [e.msgid for e in catalog.fuzzy_entries()] == []


def test_compiled_catalog_matches_the_po_file(catalog):
    compiled = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in polib.mofile(str(MO))}
    wanted = {
        (e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in catalog.translated_entries()
    }
    assert compiled == wanted, "run `make messages` to recompile locale/ja"


def source_strings():
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in GETTEXT_NAMES
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    yield path, node.args[0].value
    for path in (ROOT / "templates").rglob("*.*"):
        for match in TRANSLATE_TAG.finditer(path.read_text(encoding="utf-8")):
            yield path, match.group(2)


def test_every_string_marked_in_code_and_templates_is_in_the_catalog(catalog):
    known = {e.msgid for e in catalog}
    missing = sorted({f"{p.relative_to(ROOT)}: {s}" for p, s in source_strings() if s not in known})
    assert missing == [], "run `make messages` and translate"
