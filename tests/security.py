"""The README's Security table is declared by the tests that prove it.

Put `@attack(area, tried, outcome)` on a test: `tried` is what an attacker did, `outcome`
what happens (with figures where a benchmark measured them). `tools/security_table.py`
reads these decorators from the test files (without importing them) and writes the
table; `tests/test_docs.py` fails when README.md drifts. `pytest -m security` runs
every attack in the table.
"""

from __future__ import annotations

from typing import Callable, TypeVar

import pytest

# The table's sections, in this order. Add one here if no area fits.
AREAS = (
    "Files",
    "Privacy",
    "Flooding",
    "Logins",
    "Hosts",
    "Leaks",
    "Input",
    "Tokens",
    "Crashes",
)

F = TypeVar("F", bound=Callable)


def attack(area: str, tried: str, outcome: str) -> Callable[[F], F]:
    """Declare the Security-table row this test proves (one row per decorator; stack for more)."""
    if area not in AREAS:
        raise ValueError(f"unknown area {area!r}: one of {AREAS}")

    def mark(test: F) -> F:
        return pytest.mark.security(area=area, tried=tried, outcome=outcome)(test)

    return mark
