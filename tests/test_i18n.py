"""Every string the app shows exists in both languages, with the same placeholders."""

from __future__ import annotations

import string

import pytest

from webui import i18n

# Labels that show braces as text (the recipe syntax, translated), not as placeholders.
LITERAL_BRACES = {"recipe_info"}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("table", ["MESSAGES", "LABELS"])
def test_english_and_chinese_have_the_same_keys_and_placeholders(table: str) -> None:
    strings = getattr(i18n, table)
    assert set(strings["en"]) == set(strings["zh"])
    for key, english in strings["en"].items():
        assert strings["zh"][key].strip(), key
        if key not in LITERAL_BRACES:
            assert placeholders(english) == placeholders(strings["zh"][key]), key
