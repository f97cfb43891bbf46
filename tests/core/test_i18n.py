"""Simplified Chinese must be complete: every string translated, placeholders kept, catalogue compiled."""

import re
from pathlib import Path

import polib
import pytest
from django.test import Client, override_settings
from django.utils import translation

import fieldservice

LOCALE = Path(fieldservice.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


@pytest.fixture(scope="module")
def catalogue():
    return polib.pofile(str(LOCALE / "django.po"))


def test_every_string_is_translated(catalogue):
    missing = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert not missing, f"untranslated: {missing[:10]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"
    assert len(catalogue) > 100


def test_translations_keep_the_placeholders(catalogue):
    wrong = []
    for entry in catalogue.translated_entries():
        expected = set(PLACEHOLDER.findall(entry.msgid))
        translations = [entry.msgstr] if entry.msgstr else list(entry.msgstr_plural.values())
        if any(set(PLACEHOLDER.findall(text)) != expected for text in translations):
            wrong.append(entry.msgid)
    assert not wrong, f"placeholders differ: {wrong[:10]}"


def test_the_compiled_catalogue_matches_the_source(catalogue):
    # Keyed by context too: "set" (a secret is set) and "set" (a set of parts) are two entries.
    compiled = {
        (entry.msgctxt, entry.msgid): entry.msgstr or entry.msgstr_plural.get(0)
        for entry in polib.mofile(str(LOCALE / "django.mo"))
    }
    stale = [
        entry.msgid
        for entry in catalogue.translated_entries()
        if compiled.get((entry.msgctxt, entry.msgid)) != (entry.msgstr or entry.msgstr_plural.get(0))
    ]
    assert not stale, f"run ./dev messages; stale in django.mo: {stale[:10]}"


@override_settings(LANGUAGE_CODE="zh-hans")
def test_chinese_is_the_default_and_english_can_be_chosen(db):
    client = Client()
    response = client.get("/login/", headers={"accept-language": ""})
    assert "登录" in response.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    response = client.get("/login/")
    assert "Sign in" in response.content.decode()
    assert "登录" not in response.content.decode()


def test_lazy_labels_translate(db):
    from fieldservice.customers.choices import CustomerTier

    with translation.override("zh-hans"):
        assert str(CustomerTier.STRATEGIC.label) != "Strategic"
    with translation.override("en"):
        assert str(CustomerTier.STRATEGIC.label) == "Strategic"
