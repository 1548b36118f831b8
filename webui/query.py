"""The `/history` search language: filter tokens plus free text (interface.md).

    red car is:starred rating:>=4 board:"two words" -model:FLUX.1-schnell after:2026-11-01

A token is `key:value` for a known key, optionally prefixed with `-` to exclude;
a value may be double-quoted to hold spaces. Whatever is not a token is the free
text: a case-insensitive substring of the prompt. A word with an unknown key
(`photo:` in a prompt) is free text, so prompts with colons still search as before.
A known key with a value that does not fit is a :class:`QueryError` naming it.

A plain function with no storage or Gradio in it: the page, `/history`, the REST API
and the SQL compiler in `history.py` all share it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from .errors import InvalidInputError
from .record import MAX_RATING

__all__ = ["KEYS", "Query", "QueryError", "Term", "parse_query"]

Key = Literal["is", "rating", "board", "model", "size", "user", "seed", "after", "before"]
KEYS: tuple[str, ...] = ("is", "rating", "board", "model", "size", "user", "seed", "after", "before")
IS_VALUES = ("starred",)
COMPARISONS = (">=", "<=", ">", "<", "=")
_SIZE = re.compile(r"^\d{1,5}x\d{1,5}$")
_TOKEN = re.compile(
    r'(?<!\S)(?P<neg>-?)(?P<key>[A-Za-z]+):(?P<value>"(?:[^"\\]|\\.)*"|\S*)(?!\S)'
)


class QueryError(InvalidInputError):
    """A filter token with a value that does not fit; `token` is the text as typed."""

    code = "bad_query_token"

    def __init__(self, token: str) -> None:
        super().__init__(token=token)
        self.token = token


@dataclass(frozen=True)
class Term:
    """One filter: `key` compared with `value` (`op` for ratings), or its opposite."""

    key: Key
    value: str | int
    negated: bool = False
    op: str = "="


@dataclass(frozen=True)
class Query:
    """A parsed search: the prompt substring ("" for any) and the filters, all ANDed."""

    text: str = ""
    terms: tuple[Term, ...] = ()

    def boards(self) -> list[str]:
        """Board names the query asks for (not excluded ones)."""
        return [str(t.value) for t in self.terms if t.key == "board" and not t.negated]


def parse_query(text: str) -> Query:
    """Split a search box's text into filter terms and the free text.

    Without any token the text is kept exactly as typed (the substring search of
    before); with tokens, the words left over are joined by single spaces.
    """
    if not isinstance(text, str):
        return Query()
    terms: list[Term] = []
    rest: list[str] = []
    last = 0
    for match in _TOKEN.finditer(text):
        key = match["key"].lower()
        if key not in KEYS:
            continue
        raw = match["value"]
        if raw.startswith('"') and (len(raw) < 2 or not raw.endswith('"') or raw.endswith('\\"')):
            raise QueryError(match[0])  # an unclosed quote
        rest.append(text[last : match.start()])
        last = match.end()
        terms.append(_term(key, _unquote(raw), bool(match["neg"]), match[0]))
    if not terms:
        return Query(text)
    rest.append(text[last:])
    return Query(" ".join(" ".join(rest).split()), tuple(terms))


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _term(key: str, value: str, negated: bool, token: str) -> Term:
    """A checked term, or QueryError naming `token`."""
    value = value.strip()
    if not value:
        raise QueryError(token)
    if key == "is":
        if value.lower() not in IS_VALUES:
            raise QueryError(token)
        return Term("is", value.lower(), negated)
    if key == "rating":
        op = next((c for c in COMPARISONS if value.startswith(c)), "=")
        number = value.removeprefix(op)
        if not (number.isascii() and number.isdigit()) or not 0 <= int(number) <= MAX_RATING:
            raise QueryError(token)
        return Term("rating", int(number), negated, op)
    if key == "seed":
        if not (value.isascii() and value.isdigit()) or len(value) > 19:
            raise QueryError(token)
        return Term("seed", int(value), negated)
    if key == "size":
        if not _SIZE.match(value.lower()):
            raise QueryError(token)
        return Term("size", value.lower(), negated)
    if key in ("after", "before"):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise QueryError(token) from None
        if len(value) != 10:  # fromisoformat also takes 20261101
            raise QueryError(token)
        return Term(key, day.isoformat(), negated)  # type: ignore[arg-type]
    return Term(key, value, negated)  # type: ignore[arg-type]  # board, model, user
